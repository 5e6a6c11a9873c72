"""What ``run_autograder`` does on Gradescope: grade ``ROOT/submission`` and write
``ROOT/results/results.json``."""
from pathlib import Path

from .. import public
from ..grade import DEFAULT_BUDGET, DEFAULT_TIMEOUT, grade_submission
from ..reports.files import write_atomic
from ..reports.results import results_json

STUDENT_MODULES = tuple(sorted({f"{m}.py" for m in public.framework.FUNCTIONS.values()}))


def modules_folder(submission):
    """The folder that holds the student's modules: the submission itself, or the
    shallowest folder below it that holds any of them (a student who uploads a
    zipped ``batchnorm/`` folder gets it unpacked one level down)."""
    submission = Path(submission)
    candidates = [submission] + sorted((p for p in submission.rglob("*") if p.is_dir()
                                        and not any(part.startswith((".", "__")) for part in
                                                    p.relative_to(submission).parts)),
                                       key=lambda p: (len(p.parts), str(p)))
    for folder in candidates:
        if any((folder / name).is_file() for name in STUDENT_MODULES):
            return folder
    return submission


def run(root, hidden_visibility=None, timeout=DEFAULT_TIMEOUT, launcher=None, budget=DEFAULT_BUDGET):
    """Grade ``root/submission``, write ``root/results/results.json``, return the Result.
    ``launcher`` confines the student's code (default: the sandbox's best here)."""
    root = Path(root)
    folder = modules_folder(root / "submission")
    print(f"grading the modules in {folder} with the autograder in {Path(__file__).resolve().parent.parent}")
    result = grade_submission(folder, timeout=timeout, budget=budget, name="submission", launcher=launcher)
    write_atomic(root / "results" / "results.json", results_json(result, hidden_visibility))
    print(f"score {result.score:g} / {result.max_score:g}; protections: {', '.join(result.protections)}")
    return result
