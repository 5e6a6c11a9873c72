"""nbgrader's post-convert hook for ``generate_assignment``: stub the modules, pin the
requirements.

nbgrader copies non-notebook files byte for byte (jupyter/nbgrader#1237), so without
this hook ``nbgrader generate_assignment batchnorm --force`` would hand students the
solved ``.py`` modules. nbgrader logs a failing hook at INFO level and carries on, so
this hook fails closed: if stubbing fails, every module that still holds a solution is
deleted from the release, and the reason is printed.
"""
import sys
from pathlib import Path

from .build import BuildError, pin_requirements, rewrite_modules
from .regions import has_markers, student_version


def finish_release(assignment, student, notebooks):
    from nbgrader.apps import GenerateAssignmentApp  # the running app knows the output folder
    coursedir = GenerateAssignmentApp.instance().coursedir
    folder = Path(coursedir.format_path(coursedir.release_directory, ".", assignment))
    try:
        rewrite_modules(folder, student_version)
    except Exception as err:
        for path in folder.glob("*.py"):
            if has_markers(path.read_text()):
                path.unlink()
        print(f"error: {err}\nThe modules that still held solutions were removed from {folder}.",
              file=sys.stderr)
    try:
        pin_requirements(folder)
    except (BuildError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
