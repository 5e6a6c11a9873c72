"""The demo class: the untouched release, the reference solution, one submission per
catalogued mistake (the solution version with the mistake's patch applied), and two
that show how failures are contained (a syntax error and an endless loop)."""
import shutil
from pathlib import Path

from . import ROOT
from .misconceptions import CATALOGUE, Mistake, apply

BUILD = ROOT / ".build" / "demo"
BROKEN = (
    Mistake("syntax-error", "zero_centered", (("def zero_centered(X):", "def zero_centered(X)"),),
            "a missing colon: the module cannot be imported"),
    Mistake("endless-loop", "batchnorm_backward_alt",
            (("    xhat, _, ivar, _, gamma = cache\n", "    xhat, _, ivar, _, gamma = cache\n    while True:\n"
                                                      "        pass\n"),),
            "a loop that never ends"),
)


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
    for mistake in (*CATALOGUE, *BROKEN):
        folder = _submission(mistake.id, solutions, target)
        module = folder / f"{mistake.module}.py"
        module.write_text(apply(mistake, module.read_text()))
        folders.append(folder)
    return folders
