"""The demo class of an assignment: the untouched release, the reference solution, one
submission per catalogued mistake (the solution version with the mistake's patch
applied), and the assignment's extra ones that show how failures are contained (for
batchnorm, a syntax error and an endless loop)."""
import shutil

from .assignments import load
from .misconceptions import apply


def _submission(name, source, target):
    folder = target / name
    shutil.copytree(source, folder, ignore=shutil.ignore_patterns("__pycache__", "executed"))
    return folder


def build_demo_class(target=None, assignment=None):
    """Write the demo submissions under ``target`` (default ``.build/demo`` of the
    course) and return their folders."""
    graded = load(assignment)
    target = graded.course / ".build" / "demo" if target is None else target
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    folders = [_submission("untouched-release", graded.release, target),
               _submission("reference-solution", graded.solutions, target)]
    for mistake in (*graded.catalogue, *graded.broken):
        folder = _submission(mistake.id, graded.solutions, target)
        module = graded.module_of(mistake.function)
        path = folder / f"{module}.py"
        path.write_text(apply(mistake, path.read_text(), module))
        folders.append(folder)
    return folders
