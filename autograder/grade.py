"""Grade one submission: copy its modules, run every check against a child process
that holds the student's code, and collect the outcomes."""
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from . import public, sandbox
from .checks import ALL
from .reference import LiveReference

Outcome = public.framework.Outcome
DEFAULT_TIMEOUT = public.runner.client.DEFAULT_TIMEOUT
DEFAULT_BUDGET = public.runner.client.DEFAULT_BUDGET
MAX_MODULE_BYTES = 1 << 20


@dataclass
class Result:
    name: str
    outcomes: list
    protections: tuple
    execution_time: float
    notice: str = ""  # a sentence about the submission as a whole, e.g. a missing folder
    error: str = ""  # why the grader itself failed on this submission, for the instructor

    @property
    def score(self):
        return sum(o.score for o in self.outcomes)

    @property
    def max_score(self):
        return sum(o.check.points for o in self.outcomes)

    @property
    def faults(self):
        """The grader's own failures, for the instructor: (what, why) pairs."""
        return ([(self.name, self.error)] if self.error else []) + [
            (f"{self.name}: {o.check.name}", o.error) for o in self.outcomes if o.error]

    @classmethod
    def nothing_graded(cls, name, checks, notice, execution_time=0.0, error=""):
        """Every check scores 0, with ``notice`` as the reason."""
        return cls(name, [Outcome(c, 0.0, notice) for c in checks], (), execution_time, notice, error)


_reference = None
_reference_lock = threading.Lock()


def reference():
    """The reference and its mistakes, loaded once per grading process."""
    global _reference
    with _reference_lock:
        if _reference is None:
            _reference = LiveReference()
    return _reference


def _copy_modules(submission, scratch):
    """Only the top-level Python files travel (notebooks and caches stay behind),
    never a link (it could point at the reference solution) and nothing too large
    to be a module."""
    for path in sorted(submission.glob("*.py")):
        if not path.is_symlink() and path.is_file() and path.stat().st_size <= MAX_MODULE_BYTES:
            shutil.copyfile(path, scratch / path.name)


def grade_submission(submission, *, checks=ALL, launcher=None, timeout=DEFAULT_TIMEOUT, budget=DEFAULT_BUDGET,
                     name=None):
    """Grade the folder ``submission`` (laid out like release/batchnorm). Each call of
    a student function may take ``timeout`` seconds, all of them ``budget`` seconds.
    Whatever goes wrong costs this submission its points, with a sentence, never the caller."""
    submission = Path(submission)
    name = name or submission.name
    start = time.monotonic()
    if not submission.is_dir():
        return Result.nothing_graded(name, checks, "The submission is not a folder; nothing was graded.",
                                     time.monotonic() - start, error=f"{submission} is not a folder")
    try:
        return _grade_folder(submission, checks, launcher, timeout, budget, name, start)
    except Exception as err:
        return Result.nothing_graded(name, checks, "The grader failed on this submission; nothing was graded. "
                                     "Your instructor can see why.", time.monotonic() - start,
                                     error=f"{type(err).__name__}: {err}")


def _grade_folder(submission, checks, launcher, timeout, budget, name, start):
    with tempfile.TemporaryDirectory(prefix="batchnorm-submission-") as scratch:
        scratch = Path(scratch)
        _copy_modules(submission, scratch)
        runner = public.runner.ChildRunner(scratch, public.framework.FUNCTIONS, timeout=timeout,
                                           budget=budget, launcher=launcher or sandbox.launcher())
        with runner:
            outcomes = public.framework.run_checks(checks, runner, reference())
        protections = runner.protections
    return Result(name, outcomes, protections, round(time.monotonic() - start, 3))
