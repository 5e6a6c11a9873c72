"""Public self-check for the batchnorm assignment.

``python -m selfcheck`` (or ``make grade``) in the assignment folder runs the public
checks on your modules and prints a score table with feedback. In a notebook,
``run_public("batchnorm_forward")`` runs one group of them. The hidden checks that
decide your grade test more cases in the same way.
"""
from pathlib import Path

try:
    import numpy  # noqa: F401  (every check needs it)
except ImportError:
    raise SystemExit("numpy is not installed: pip install -r requirements.txt") from None

from .checks import suite
from .framework import FUNCTIONS, run_checks
from .report import print_group
from .runner import ChildRunner
from .stored import StoredReference


def check_folder(folder=".", groups=None):
    """Run the public checks (of ``groups``, default all) on the modules in ``folder``."""
    checks = [c for c in suite.checks if groups is None or c.group in groups]
    with ChildRunner(Path(folder).resolve(), FUNCTIONS) as runner:
        return run_checks(checks, runner, StoredReference())


def run_public(group):
    """Run the public checks of one group, print the results, return the score."""
    outcomes = check_folder(".", [group])
    print_group(outcomes, f"Public checks: {group}")
    return sum(o.score for o in outcomes)
