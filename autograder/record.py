"""Record the public checks' expected answers from the reference solution into
``assignment/NAME/grading/public/expected.json`` (``make release`` and ``make
solutions`` run it first)."""
from .assignments import load
from .kit.framework import run_checks
from .kit.runner import ChildRunner
from .kit.stored import EXPECTED
from .reference import LiveReference, RecordingReference
from .reports.files import write_atomic


def record(assignment=None):
    """Write the stored answers of ``assignment`` (a ``Graded``, a name, or None for the
    default); return their path."""
    graded = load(assignment)
    recorder = RecordingReference(LiveReference(graded))
    with ChildRunner(graded.master, graded.spec.functions) as runner:
        outcomes = run_checks(graded.public_checks, runner, recorder)
    failed = [o for o in outcomes if not o.passed]
    if failed:
        raise RuntimeError("the reference fails its own public checks:\n" +
                           "\n".join(f"{o.check.name}: {o.output}" for o in failed))
    target = graded.public_folder / EXPECTED
    text = recorder.dumps()
    if not target.exists() or target.read_text() != text:
        write_atomic(target, text)
    return target
