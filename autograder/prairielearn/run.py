"""What the question's entrypoint (``run_grader``) does on PrairieLearn: grade the
modules in ``ROOT/student`` and write ``ROOT/results/results.json``."""
import os
import stat
from pathlib import Path

from ..grade import DEFAULT_BUDGET, DEFAULT_TIMEOUT, MAX_MODULE_BYTES
from ..hosted import grade_upload, lock_grader_files, modules_folder
from ..intake import unfound
from ..reports.files import write_atomic
from .results import not_gradable, results_json


def unfit_modules(folder, modules):
    """A sentence for each of ``modules`` that ``folder`` does not hold as a file the
    grader reads (a regular file of at most MAX_MODULE_BYTES)."""
    problems = []
    for name in modules:
        try:
            info = os.lstat(Path(folder) / name)
        except OSError:
            problems.append(f"{name} is missing: upload it with the other modules ({', '.join(modules)}).")
            continue
        if not stat.S_ISREG(info.st_mode):
            problems.append(f"{name} is not a file (a link, or a folder); upload the module itself.")
        elif info.st_size > MAX_MODULE_BYTES:
            problems.append(f"{name} is larger than {MAX_MODULE_BYTES >> 20} MiB; upload the module itself.")
    return problems


def write_results(root, text):
    write_atomic(Path(root) / "results" / "results.json", text)


def run(root, graded, hidden_visibility=None, timeout=DEFAULT_TIMEOUT, launcher=None, budget=DEFAULT_BUDGET):
    """Grade ``root/student`` with the checks of assignment ``graded`` and write
    ``root/results/results.json``; return the Result, or None when the submission
    was not gradable. What is printed goes to the instructor's log."""
    root = Path(root)
    lock_grader_files(root)
    # PrairieLearn does not make it; made now, it is root's before student code runs.
    (root / "results").mkdir(exist_ok=True)
    search = modules_folder(root / "student", graded)
    if search.folder is None and (search.several or search.other):
        problems = [unfound(search, graded)[2]]
    else:
        problems = unfit_modules(search.folder or root / "student", graded.spec.modules)
    if problems:
        write_results(root, not_gradable(problems))
        print(f"not gradable: {' '.join(problems)}")
        return None
    result = grade_upload(search, graded, timeout=timeout, budget=budget, launcher=launcher)
    if result.error:
        # The grader's own failure: the student loses no attempt to it.
        write_results(root, not_gradable(["The grader failed on this submission; your instructor can see why in "
                                          "the grading log."]))
        print(f"error: the grader failed: {result.error}")
        return None
    write_results(root, results_json(result, hidden_visibility))
    return result
