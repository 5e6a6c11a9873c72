"""The grading kit: checks, suites and outcomes, comparisons that explain
themselves, stored answers, score tables and feedback, and the runner that calls
student code in a child process and brings back plain data. It knows nothing of
any one assignment and imports nothing but numpy and itself.

The builder copies the kit into every student folder as ``selfcheck/``, next to the
assignment's public checks (``selfcheck/assignment/``). There ``python -m selfcheck``
(or ``make grade``) runs the public checks on the student's modules and prints a
score table with feedback, and a notebook's ``run_public(group)`` runs one group.
"""
import contextlib
import os
import sys
from pathlib import Path

try:
    import numpy  # noqa: F401  (every check needs it)
except ImportError:
    raise SystemExit("numpy is not installed: pip install -r requirements.txt") from None


def check_folder(folder=".", groups=None):
    """Run the public checks (of ``groups``, default all) on the modules in ``folder``."""
    from .assignment import ASSIGNMENT  # the assignment's public part, beside the kit in a student's copy
    from .assignment.public import suite
    from .framework import run_checks
    from .runner import ChildRunner
    from .stored import StoredReference
    checks = [c for c in suite.checks if groups is None or c.group in groups]
    with ChildRunner(Path(folder).resolve(), ASSIGNMENT.functions) as runner:
        return run_checks(checks, runner, StoredReference(Path(__file__).with_name("assignment") / "public"))


def run_public(group):
    """Run the public checks of one group, print the results, return the score.

    Under ``nbgrader validate`` no score is returned: validate would read it as partial
    credit of the grade cell's points, which the hidden checks share. There the cell
    passes when every public check passed, and otherwise prints its results as an
    error, which validate shows."""
    from .report import print_group
    outcomes = check_folder(".", [group])
    validating = bool(os.environ.get("NBGRADER_VALIDATING"))
    failed = validating and not all(o.passed for o in outcomes)
    with contextlib.redirect_stdout(sys.stderr if failed else sys.stdout):
        print_group(outcomes, f"Public checks: {group}")
    return None if validating else sum(o.score for o in outcomes)
