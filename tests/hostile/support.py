"""What the hostile-submission tests share: building a submission from the
reference with ONE function replaced, and the assertions that a protection held
while the honest functions kept their points."""
import ast
import os
import shutil
import textwrap
import threading
import time
from pathlib import Path

from autograder.kit.report import feedback
from autograder.sandbox import ForkedLauncher
from conftest import GRADED

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = ROOT / "solutions" / "batchnorm"
TIMEOUT = 1.5  # seconds per call; the reference answers in milliseconds
FUNCTIONS = GRADED.spec.functions


def replace_function(module, name, source):
    """Put ``source`` (a whole ``def name(...)``, maybe with helpers) where ``name`` is defined in ``module``."""
    text = module.read_text()
    node = next(n for n in ast.parse(text).body if isinstance(n, ast.FunctionDef) and n.name == name)
    lines = text.splitlines(keepends=True)
    replacement = textwrap.dedent(source).strip() + "\n"
    assert f"def {name}(" in replacement, f"the hostile source must define {name}"
    module.write_text("".join(lines[:node.lineno - 1] + [replacement] + lines[node.end_lineno:]))


def build_submission(folder, function, source):
    """The reference in ``folder``, with ``function`` replaced by ``source``."""
    shutil.copytree(SOLUTIONS, folder,
                    ignore=shutil.ignore_patterns("__pycache__", "executed", "*.ipynb", "selfcheck"))
    replace_function(folder / f"{FUNCTIONS[function]}.py", function, source)
    return folder


def outputs_of(result, function):
    """The feedback of every check that exercises ``function``, joined."""
    return "\n".join(o.output for o in result.outcomes if function in o.check.tags)


def first_output_of(result, function):
    return next(o.output for o in result.outcomes if function in o.check.tags)


def assert_honest_functions_kept_their_points(result, reference_scores, hostile_functions):
    """Every check that does not exercise a hostile function scores as the reference."""
    changed = {o.check.name: (o.score, reference_scores[o.check.name], o.output) for o in result.outcomes
               if not set(o.check.tags) & set(hostile_functions) and o.score != reference_scores[o.check.name]}
    assert not changed, f"honest checks lost points: {changed}"


def assert_hostile_function_earned_nothing(result, function):
    earned = {o.check.name: o.score for o in result.outcomes if function in o.check.tags and o.score}
    assert not earned, f"checks of {function} earned points: {earned}"


def processes_with(marker, wait=2.0):
    """pids of host processes whose command line holds ``marker``, after giving
    killed processes up to ``wait`` seconds to disappear."""
    deadline = time.monotonic() + wait
    while True:
        found = []
        for entry in Path("/proc").iterdir():
            try:
                if entry.name.isdigit() and marker.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                pass
        found = [pid for pid in found if pid != os.getpid()]
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def explained_once(outcomes, sentence):
    """Every outcome fails, and states ``sentence`` or names a check that does (where
    the cause is explained in full); the feedback of them all explains each cause
    once: no line of it repeats."""
    stated = [o for o in outcomes if sentence in o.output]
    assert stated and not any(o.passed for o in outcomes), [o.output for o in outcomes]
    references = [f"\u201c{o.check.name}\u201d" for o in stated]
    for o in outcomes:
        assert sentence in o.output or any(r in o.output for r in references), o.output
    lines = [line for line in feedback(outcomes).splitlines() if len(line) >= 30]
    assert sentence in "\n".join(lines) and len(lines) == len(set(lines)), lines


def kept_sandboxes():
    """The pids of the kept sandboxes (ForkedLauncher) waiting for a child in this process."""
    return [server.process.pid for server in ForkedLauncher._idle]


def close_kept_sandboxes():
    """Close every kept sandbox waiting in this process, so that the next grading starts its own."""
    while ForkedLauncher._idle:
        ForkedLauncher._idle.pop().close()


def finishes_within(seconds, function, *args, **kwargs):
    """``function(*args, **kwargs)``'s value, which must come within ``seconds``: an
    attack that blocks the grader fails the test instead of hanging it (the blocked
    thread is left behind, a daemon)."""
    outcome = []

    def run():
        try:
            outcome.append((function(*args, **kwargs), None))
        except BaseException as err:  # noqa: B036 (raised again in the test's thread)
            outcome.append((None, err))
    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    assert outcome, f"{getattr(function, '__name__', function)} was still running after {seconds} s"
    value, error = outcome[0]
    if error is not None:
        raise error
    return value
