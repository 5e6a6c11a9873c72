"""Shared fixtures: repository paths, the reference modules, isolated Jupyter state."""
import importlib.util
import os
import shutil
from pathlib import Path

import pytest

from autograder.assignments import load

ROOT = Path(__file__).resolve().parent.parent
GRADED = load("batchnorm", ROOT)  # the course's assignment, as the grader sees it
MASTER = GRADED.master
RELEASE = ROOT / "release" / "batchnorm"
SOLUTIONS = ROOT / "solutions" / "batchnorm"
STUDENT_MODULES = ("preprocessing", "initializers", "batchnorm")


def load_module(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def ref():
    """The reference solution's modules (the master; markers are comments)."""
    class Modules:
        pass
    modules = Modules()
    for name in (*STUDENT_MODULES, "gradient_check"):
        setattr(modules, name, load_module(MASTER / f"{name}.py", f"_test_reference_{name}"))
    return modules


@pytest.fixture(autouse=True, scope="session")
def isolated_jupyter(tmp_path_factory):
    """Keep Jupyter's config, data and runtime files out of the user's home."""
    base = tmp_path_factory.mktemp("jupyter")
    saved = {k: os.environ.get(k) for k in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR",
                                             "JUPYTER_RUNTIME_DIR", "JUPYTER_PLATFORM_DIRS")}
    os.environ.update(JUPYTER_CONFIG_DIR=str(base / "config"), JUPYTER_DATA_DIR=str(base / "data"),
                      JUPYTER_RUNTIME_DIR=str(base / "runtime"), JUPYTER_PLATFORM_DIRS="1")
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture
def solution_copy(tmp_path):
    """A writable copy of the solution version, to turn into a test submission."""
    target = tmp_path / "submission"
    shutil.copytree(SOLUTIONS, target, ignore=shutil.ignore_patterns("__pycache__", "executed", "*.ipynb"))
    return target


@pytest.fixture(scope="session")
def demo_folders(tmp_path_factory):
    from autograder.demo import build_demo_class
    return build_demo_class(tmp_path_factory.mktemp("demo-class"))


@pytest.fixture(scope="session")
def demo_graded(demo_folders, tmp_path_factory):
    """The demo class, graded once per test run with its files written: (results, folder)."""
    from autograder.classroom import grade_class
    out = tmp_path_factory.mktemp("demo-grades") / "out"
    return grade_class(demo_folders, out=out, jobs=2, progress=False), out


@pytest.fixture(scope="session")
def demo(demo_graded):
    """The demo class's results: {name: Result}."""
    return {r.name: r for r in demo_graded[0]}
