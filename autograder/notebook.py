"""nbgrader grade cells: ``grade_group("batchnorm_forward")`` in a hidden-test block.

The kernel's working folder is the submission being autograded. Its modules are
graded once per kernel, in a sandboxed child process like on the command line, and
each grade cell prints the feedback of its group and returns the group's score,
which nbgrader records as the cell's partial credit. Nothing is written to stderr,
since nbgrader scores a grade cell that writes to stderr 0.
"""
import os
from pathlib import Path

from . import public
from .grade import grade_submission

_graded = {}


def grade_group(group):
    folder = Path(os.getcwd()).resolve()
    if folder not in _graded:
        _graded[folder] = grade_submission(folder)
    outcomes = [o for o in _graded[folder].outcomes if o.check.group == group]
    if not outcomes:
        raise ValueError(f"no checks in group {group!r}; the groups are {', '.join(public.framework.GROUPS)}")
    print(public.report.table(outcomes, f"Grading: {group}"))
    failed = [o for o in outcomes if not o.passed]
    if failed:
        print()
        print(public.report.feedback(failed, heading="What to fix"))
    return sum(o.score for o in outcomes)
