"""Grade one submission: copy its modules, run every check against a child process
that holds the student's code, and collect the outcomes."""
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from . import public, sandbox
from .checks import ALL
from .reference import LiveReference

Outcome = public.framework.Outcome
MAX_MODULE_BYTES = 1 << 20


@dataclass
class Result:
    name: str
    outcomes: list
    protections: tuple
    execution_time: float
    notice: str = ""  # a sentence about the submission as a whole, e.g. a missing folder

    @property
    def score(self):
        return sum(o.score for o in self.outcomes)

    @property
    def max_score(self):
        return sum(o.check.points for o in self.outcomes)

    @classmethod
    def nothing_graded(cls, name, checks, notice, execution_time=0.0):
        """Every check scores 0, with ``notice`` as the reason."""
        return cls(name, [Outcome(c, 0.0, notice) for c in checks], (), execution_time, notice)


_reference = None


def reference():
    """The reference and its mistakes are loaded once per grading process."""
    global _reference
    if _reference is None:
        _reference = LiveReference()
    return _reference


def _copy_modules(submission, scratch):
    """Only the top-level Python files travel: notebooks, caches and a stray
    conftest.py are left behind, and so is anything too large to be a module."""
    for path in sorted(submission.glob("*.py")):
        if path.is_file() and path.stat().st_size <= MAX_MODULE_BYTES:
            shutil.copyfile(path, scratch / path.name)


def grade_submission(submission, *, checks=ALL, launcher=None, timeout=5.0, name=None):
    """Grade the folder ``submission`` (laid out like release/batchnorm)."""
    submission = Path(submission)
    name = name or submission.name
    start = time.monotonic()
    if not submission.is_dir():
        return Result.nothing_graded(name, checks, f"{submission} is not a folder; nothing was graded.",
                                     time.monotonic() - start)
    with tempfile.TemporaryDirectory(prefix="batchnorm-submission-") as scratch:
        scratch = Path(scratch)
        _copy_modules(submission, scratch)
        runner = public.runner.ChildRunner(scratch, public.framework.FUNCTIONS, timeout=timeout,
                                           launcher=launcher or sandbox.launcher())
        with runner:
            outcomes = public.framework.run_checks(checks, runner, reference())
        protections = runner.protections
    return Result(name, outcomes, protections, round(time.monotonic() - start, 3))
