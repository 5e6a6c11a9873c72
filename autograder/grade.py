"""Grade one submission: copy its modules, run every check against a child process
that holds the student's code, and collect the outcomes."""
import os
import shutil
import stat
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from . import sandbox
from .assignments import load
from .kit.framework import Outcome, run_checks
from .kit.runner import ChildRunner
from .kit.runner.client import DEFAULT_BUDGET, DEFAULT_TIMEOUT
from .reference import LiveReference
from .reports.escape import NAME_LIMIT, shown

MAX_MODULE_BYTES = 1 << 20
MAX_FAULT = 2000  # characters of a grader's failure shown to the instructor


@dataclass
class Result:
    name: str
    outcomes: list
    protections: tuple
    execution_time: float
    notice: str = ""  # a sentence about the submission as a whole, e.g. a missing folder
    error: str = ""  # why the grader itself failed on this submission, for the instructor
    status: str = "graded"  # grades.csv's status column: "graded", or why nothing was

    @property
    def score(self):
        return sum(o.score for o in self.outcomes)

    @property
    def max_score(self):
        return sum(o.check.points for o in self.outcomes)

    @property
    def faults(self):
        """The grader's own failures, for the instructor: (what, why) pairs, each one
        line safe to print."""
        return [(shown(what), shown(why, MAX_FAULT)) for what, why in
                ([(self.name, self.error)] if self.error else []) + [
                    (f"{self.name}: {o.check.name}", o.error) for o in self.outcomes if o.error]]

    @classmethod
    def nothing_graded(cls, name, checks, notice, execution_time=0.0, error="", status="grader failed"):
        """Every check scores 0, for the one reason ``notice``: said in full by the
        first check, as every cause is (the kit's say_each_cause_once), and pointed
        to by the others."""
        ordered = sorted(checks, key=lambda c: c.rank)
        where = f"\u201c{ordered[0].name}\u201d" if ordered else ""
        outcomes = [Outcome(c, 0.0, notice if i == 0 else f"Nothing was graded (explained in full under {where}).")
                    for i, c in enumerate(ordered)]
        return cls(name, outcomes, (), execution_time, notice, error, status)


_references = {}
_references_lock = threading.Lock()


def reference(graded):
    """The reference of an assignment and its known mistakes, loaded once per grading process."""
    with _references_lock:
        if graded not in _references:
            _references[graded] = LiveReference(graded)
        return _references[graded]


def links_notice(names):
    """The sentence a student reads about links in their submission that were left
    out; their names are theirs to choose, so each is made one bounded line of text."""
    names = sorted(shown(name, NAME_LIMIT) for name in names)
    if not names:
        return ""
    listed = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    if len(names) == 1:
        return f"{listed} is a link; links are not followed, so it was ignored."
    return f"{listed} are links; links are not followed, so they were ignored."


def _copy_modules(submission, scratch):
    """Copy the top-level Python files (notebooks and caches stay behind) and
    return the names of those that are links. A link is never followed, since it
    could point at the reference solution: each file is opened without following
    links and read through that descriptor, and only a regular file no larger than
    a module can be travels."""
    folder = os.open(submission, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    links = []
    try:
        for name in sorted(os.listdir(folder)):
            if not name.endswith(".py") or name.startswith("."):
                continue
            try:
                source = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=folder)
            except OSError:
                if os.path.islink(os.path.join(submission, name)):
                    links.append(name)
                continue
            try:
                info = os.fstat(source)
                if stat.S_ISREG(info.st_mode) and info.st_size <= MAX_MODULE_BYTES:
                    (scratch / name).write_bytes(os.read(source, MAX_MODULE_BYTES + 1)[:MAX_MODULE_BYTES])
            finally:
                os.close(source)
    finally:
        os.close(folder)
    return links


def grade_submission(submission, *, assignment=None, checks=None, launcher=None, timeout=DEFAULT_TIMEOUT,
                     budget=DEFAULT_BUDGET, name=None):
    """Grade the folder ``submission`` (laid out like the assignment's release folder)
    with the checks of ``assignment`` (a ``Graded``, a name, or None for the default),
    or ``checks`` of it. Each call of a student function may take ``timeout`` seconds,
    all of them ``budget`` seconds. Whatever goes wrong costs this submission its
    points, with a sentence, never the caller."""
    graded = load(assignment)
    checks = graded.checks if checks is None else checks
    submission = Path(submission)
    name = name or submission.name
    start = time.monotonic()
    if submission.is_symlink():
        # The folder named is the instructor's, but the last step of its path may come
        # from the student (a link kept by a git upload), so it is never followed.
        return Result.nothing_graded(name, checks, links_notice([submission.name]), time.monotonic() - start,
                                     error=f"{shown(submission)} is a link; pass the folder it points to if you "
                                           "trust it")
    if not submission.is_dir():
        return Result.nothing_graded(name, checks, "The submission is not a folder; nothing was graded.",
                                     time.monotonic() - start, error=f"{shown(submission)} is not a folder")
    try:
        return _grade_folder(submission, graded, checks, launcher, timeout, budget, name, start)
    except Exception as err:
        return Result.nothing_graded(name, checks, "The grader failed on this submission; nothing was graded. "
                                     "Your instructor can see why.", time.monotonic() - start,
                                     error=f"{type(err).__name__}: {err}")


def _grade_folder(submission, graded, checks, launcher, timeout, budget, name, start):
    # The scratch copy is the grader's alone; the sandbox hands it to the child's uid.
    scratch = sandbox.scratch.new_copy()
    try:
        links = _copy_modules(submission, scratch)
        launcher = launcher or sandbox.launcher()
        launcher.prepare()  # a kept sandbox starts while the reference loads
        answers = reference(graded)
        runner = ChildRunner(scratch, graded.spec.functions, timeout=timeout, budget=budget, launcher=launcher)
        with runner:
            runner.start()  # while the first check prepares its inputs
            outcomes = run_checks(checks, runner, answers)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return Result(name, outcomes, runner.protections, round(time.monotonic() - start, 3), links_notice(links))
