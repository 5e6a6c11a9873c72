"""What ``run_autograder`` does on Gradescope: grade ``ROOT/submission`` and write
``ROOT/results/results.json``."""
from pathlib import Path

from ..grade import DEFAULT_BUDGET, DEFAULT_TIMEOUT
from ..hosted import grade_upload, lock_grader_files, modules_folder
from ..reports.files import write_atomic
from ..reports.results import results_json


def run(root, graded, hidden_visibility=None, timeout=DEFAULT_TIMEOUT, launcher=None, budget=DEFAULT_BUDGET):
    """Grade ``root/submission`` with the checks of assignment ``graded``, write
    ``root/results/results.json``, return the Result. ``launcher`` confines the
    student's code (default: the sandbox's best here). What is printed goes to the
    instructor's log, never to the student."""
    root = Path(root)
    lock_grader_files(root)
    result = grade_upload(modules_folder(root / "submission", graded), graded, timeout=timeout, budget=budget,
                          launcher=launcher)
    write_atomic(root / "results" / "results.json", results_json(result, hidden_visibility))
    return result
