"""Record the public checks' expected answers from the reference solution into
``assignment/batchnorm/selfcheck/expected.json`` (``make release`` and ``make
solutions`` run it first)."""
from . import MASTER, public
from .reference import LiveReference, RecordingReference
from .reports.files import write_atomic


def record(master=MASTER):
    recorder = RecordingReference(LiveReference(master))
    with public.runner.ChildRunner(master, public.framework.FUNCTIONS) as runner:
        outcomes = public.framework.run_checks(public.checks.suite.checks, runner, recorder)
    failed = [o for o in outcomes if not o.passed]
    if failed:
        raise RuntimeError("the reference fails its own public checks:\n" +
                           "\n".join(f"{o.check.name}: {o.output}" for o in failed))
    target = master / "selfcheck" / "expected.json"
    text = recorder.dumps()
    if not target.exists() or target.read_text() != text:
        write_atomic(target, text)
    return target
