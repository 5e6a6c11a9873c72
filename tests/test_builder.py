"""The release builder: stubs, markers, and generated trees in sync with the master."""
import filecmp
import shutil
import subprocess
import sys

import numpy as np
import pytest

from builder.regions import MarkerError, solution_version, student_version
from conftest import GRADED, MASTER, RELEASE, ROOT, SOLUTIONS, load_module

SOURCE = """def f(x):
    y = 1
    ### BEGIN SOLUTION
    return x + y
    ### END SOLUTION

class A:
    def g(self):
        ### BEGIN SOLUTION
        return 2
        ### END SOLUTION
### BEGIN HIDDEN TESTS
assert f(1) == 2
### END HIDDEN TESTS
"""


def test_student_version_puts_the_stub_at_the_region_indentation():
    assert student_version(SOURCE, "m.py") == """def f(x):
    y = 1
    # YOUR CODE HERE
    raise NotImplementedError()

class A:
    def g(self):
        # YOUR CODE HERE
        raise NotImplementedError()
"""


def test_solution_version_keeps_code_and_drops_markers_and_hidden_tests():
    out = solution_version(SOURCE, "m.py")
    assert "return x + y" in out and "return 2" in out
    assert "###" not in out and "assert f(1)" not in out


@pytest.mark.parametrize("text, line, words", [
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n", 2, "cannot nest"),
    ("a = 1\n### END SOLUTION\n", 2, "without a matching"),
    ("### BEGIN SOLUTION\nx = 1\n", 1, "never closed"),
    ("### BEGIN SOLUTION\n### END HIDDEN TESTS\n", 2, "closes the SOLUTION region"),
])
def test_bad_markers_name_file_and_line(text, line, words):
    with pytest.raises(MarkerError, match=rf"m\.py, line {line}: .*{words}"):
        student_version(text, "m.py")


def _course_copy(tmp_path):
    """A course folder with the master and nbgrader's config, to build into."""
    course = tmp_path / "course"
    shutil.copytree(ROOT / "assignment", course / "assignment",
                    ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
    shutil.copy(ROOT / "nbgrader_config.py", course)
    return course


def _build(course, version):
    return subprocess.run([sys.executable, "-m", "builder", version, "--root", str(course)],
                          cwd=ROOT, capture_output=True, text=True)


def _assert_same_tree(built, committed):
    left = sorted(p.relative_to(built) for p in built.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    right = sorted(p.relative_to(committed) for p in committed.rglob("*")
                   if p.is_file() and "__pycache__" not in p.parts and "executed" not in p.parts)
    assert left == right, "the generated file list differs from the committed one; run `make release solutions`"
    for rel in left:
        assert filecmp.cmp(built / rel, committed / rel, shallow=False), \
            f"{rel} differs from the committed version; run `make release solutions`"


def test_committed_release_and_solutions_are_in_sync_with_the_master(tmp_path):
    course = _course_copy(tmp_path)
    for version, committed in (("release", RELEASE), ("solutions", SOLUTIONS)):
        done = _build(course, version)
        assert done.returncode == 0, done.stderr
        _assert_same_tree(course / version / "batchnorm", committed)


def test_stored_public_answers_are_in_sync_with_the_reference(tmp_path):
    master = tmp_path / "assignment" / "batchnorm"
    shutil.copytree(MASTER, master, ignore=shutil.ignore_patterns("__pycache__"))
    done = subprocess.run([sys.executable, "-m", "autograder", "record", "--course", str(tmp_path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    recorded = master / "grading" / "public" / "expected.json"
    assert recorded.read_text() == (GRADED.public_folder / "expected.json").read_text(), \
        "expected.json is stale; run `make release`"


def test_a_second_course_with_an_assignment_of_the_same_name_is_refused_in_one_process(tmp_path, monkeypatch):
    from autograder.assignments import UnknownAssignment, load
    monkeypatch.setattr(sys, "path", list(sys.path))  # the second course goes on sys.path: not for later tests
    shutil.copytree(MASTER, tmp_path / "assignment" / "batchnorm", ignore=shutil.ignore_patterns("__pycache__"))
    assert GRADED.spec.name == "batchnorm"  # this process imported the repository's batchnorm first
    namesake = load("batchnorm", tmp_path)
    with pytest.raises(UnknownAssignment, match="use a process per course"):
        assert namesake.checks


def test_a_bad_marker_stops_the_build_and_writes_nothing(tmp_path):
    course = _course_copy(tmp_path)
    assert _build(course, "release").returncode == 0
    before = {p: p.read_bytes() for p in (course / "release").rglob("*") if p.is_file()}
    module = course / "assignment" / "batchnorm" / "preprocessing.py"
    module.write_text(module.read_text().replace("    ### END SOLUTION\n", "", 1))
    done = _build(course, "release")
    assert done.returncode == 1
    assert "preprocessing.py, line" in done.stderr and "Nothing was written" in done.stderr
    assert {p: p.read_bytes() for p in (course / "release").rglob("*") if p.is_file()} == before


def test_release_holds_no_solution_and_no_hidden_test():
    for path in RELEASE.rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts:
            text = path.read_text(errors="replace")
            for word in ("BEGIN SOLUTION", "END SOLUTION", "HIDDEN TESTS"):
                assert word not in text, f"{path} holds {word!r}"


STUB_CALLS = {
    "preprocessing": {"zero_centered": (np.ones((3, 2)),), "normalized": (np.ones((3, 2)),),
                      "data_preprocess": (np.ones((3, 2)),)},
    "initializers": {"zeros_init": (3, 2), "random_init": (3, 2, 1.0), "xavier_init": (3, 2),
                     "he_init": (3, 2)},
    "batchnorm": {"batchnorm_forward": (np.ones((3, 2)), np.ones(2), np.zeros(2), {"mode": "train"}),
                  "batchnorm_backward": (np.ones((3, 2)), None),
                  "batchnorm_backward_alt": (np.ones((3, 2)), None)},
}


@pytest.mark.parametrize("module, function, args",
                         [(m, f, a) for m, calls in STUB_CALLS.items() for f, a in calls.items()])
def test_every_released_student_function_is_a_stub(module, function, args):
    released = load_module(RELEASE / f"{module}.py", f"_released_{module}")
    with pytest.raises(NotImplementedError):
        getattr(released, function)(*args)
    assert "# YOUR CODE HERE" in (RELEASE / f"{module}.py").read_text()
