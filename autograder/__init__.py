"""The hidden grader of the batchnorm assignment.

It serves one set of checks (the public ones students see, in
``assignment/batchnorm/selfcheck``, plus the hidden ones in ``autograder/checks``) to
every front end: the command line, nbgrader grade cells and Gradescope. Student code
runs only in child processes (``selfcheck.runner``), confined by ``autograder.sandbox``.
"""
import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MASTER = ROOT / "assignment" / "batchnorm"


def _load_public_package():
    """Import the master's ``selfcheck`` package as ``autograder.public``.

    Loaded by path from the trusted master, under a name of our own, so that a
    ``selfcheck`` folder inside a submission (or already imported in a notebook
    kernel) can never stand in for it."""
    if "autograder.public" in sys.modules:
        return sys.modules["autograder.public"]
    folder = MASTER / "selfcheck"
    spec = importlib.util.spec_from_file_location("autograder.public", folder / "__init__.py",
                                                  submodule_search_locations=[str(folder)])
    module = importlib.util.module_from_spec(spec)
    sys.modules["autograder.public"] = module
    spec.loader.exec_module(module)
    return module


public = _load_public_package()
