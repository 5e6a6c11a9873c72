"""The demo class: the untouched release, the reference solution, one submission per
catalogued mistake (the solution version with the mistake's patch applied), and two
that show how failures are contained (a syntax error and an endless loop)."""
import shutil
from pathlib import Path

from . import ROOT
from .misconceptions import CATALOGUE, apply

BUILD = ROOT / ".build" / "demo"
BROKEN = {
    "syntax-error": ("preprocessing.py", "def zero_centered(X):", "def zero_centered(X)"),
    "endless-loop": ("batchnorm.py", "    dbeta = dout.sum(axis=0)\n    dgamma = (dout * xhat).sum(axis=0)\n    dx = (",
                     "    while True:\n        pass\n    dbeta = dout.sum(axis=0)\n"
                     "    dgamma = (dout * xhat).sum(axis=0)\n    dx = ("),
}


def _submission(name, source, target):
    folder = target / name
    shutil.copytree(source, folder, ignore=shutil.ignore_patterns("__pycache__", "executed"))
    return folder


def build_demo_class(target=BUILD):
    """Write the demo submissions under ``target`` and return their folders."""
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    solutions = ROOT / "solutions" / "batchnorm"
    folders = [_submission("untouched-release", ROOT / "release" / "batchnorm", target),
               _submission("reference-solution", solutions, target)]
    for mistake in CATALOGUE:
        folder = _submission(mistake.id, solutions, target)
        module = folder / f"{mistake.module}.py"
        module.write_text(apply(mistake, module.read_text()))
        folders.append(folder)
    for name, (module, old, new) in BROKEN.items():
        folder = _submission(name, solutions, target)
        path = folder / module
        text = path.read_text()
        assert text.count(old) == 1, f"demo {name}: the text to patch is not unique in {module}"
        path.write_text(text.replace(old, new))
        folders.append(folder)
    return folders
