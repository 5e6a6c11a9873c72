"""nbgrader grade cells: ``grade_group("batchnorm_forward")`` in a hidden-test block.

The kernel's working folder is the submission being autograded. Each grade cell
grades its group's checks on the modules there, in a sandboxed child process as on
the command line (a group at a time, so that hanging functions cannot add up past
nbgrader's time limit for a cell), prints the feedback, and returns the group's
score, which nbgrader records as the cell's partial credit. Nothing is written to stderr,
since nbgrader scores a grade cell that writes to stderr 0.
"""
import os
from pathlib import Path

from . import public
from .checks import ALL
from .grade import grade_submission


def grade_group(group):
    checks = [c for c in ALL if c.group == group]
    if not checks:
        raise ValueError(f"no checks in group {group!r}; the groups are {', '.join(public.framework.GROUPS)}")
    outcomes = grade_submission(Path(os.getcwd()), checks=checks).outcomes
    public.report.print_group(outcomes, f"Grading: {group}")
    return sum(o.score for o in outcomes)
