"""A second, tiny assignment (tests/course/assignment/tiny: two functions, one public
and one hidden check, one known mistake) is released, self-checked, and graded from
the command line, on Gradescope and by nbgrader by the same code as batchnorm, with
nothing of it outside its folder."""
import json
import shutil
import subprocess
import sys
import zipfile

import pytest
from test_gradescope import run_autograder
from test_nbgrader_workflow import nbgrader

from autograder.assignments import load
from autograder.misconceptions import apply
from conftest import ROOT

COURSE = ROOT / "tests" / "course"
MISTAKE_SENTENCE = "values below 0 must become 0 as well: clip both ends of the interval."


def run(*args, cwd=ROOT):
    done = subprocess.run([sys.executable, *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A copy of the test course, with its release and solution versions built, the
    project's nbgrader_config.py (which serves every assignment of a course), and a
    submission that makes the catalogued mistake."""
    course = tmp_path_factory.mktemp("course")
    shutil.copytree(COURSE, course, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "nbgrader_config.py", course)
    for version in ("release", "solutions"):
        run("-m", "builder", version, "--course", course)
    wrong = course / "wrong"
    shutil.copytree(course / "solutions" / "tiny", wrong)
    [mistake] = load("tiny", course).catalogue
    (wrong / "arith.py").write_text(apply(mistake, (wrong / "arith.py").read_text(), "arith"))
    return course


def test_its_release_holds_stubs_and_the_public_check_not_the_hidden_one(course):
    release = course / "release" / "tiny"
    assert "raise NotImplementedError" in (release / "arith.py").read_text()
    assert "np.clip" not in (release / "arith.py").read_text()
    assert not (release / "grading").exists()
    assert (release / "selfcheck" / "assignment" / "public" / "checks.py").is_file()
    texts = "".join(p.read_text(errors="replace") for p in release.rglob("*") if p.is_file())
    assert "double: a small vector" in texts and "clipped: values on both sides" not in texts


def test_its_self_check_runs_in_the_student_folders(course):
    stubs = run("-m", "selfcheck", cwd=course / "release" / "tiny")
    assert "0 / 1" in stubs and "double is still the stub" in stubs
    assert "Every check passed" in run("-m", "selfcheck", cwd=course / "solutions" / "tiny")


def test_the_command_line_grades_it_and_names_its_mistake(course, tmp_path):
    out = tmp_path / "out"
    run("-m", "autograder", "grade", course / "solutions" / "tiny", course / "wrong", "--course", course,
        "--assignment", "tiny", "--out", out)
    rows = {row["name"]: row for row in json.loads((out / "summary.json").read_text())["submissions"]}
    # A folder named like the assignment is named by its parent, as in nbgrader's submitted/<student>/tiny.
    assert (rows["solutions"]["score"], rows["wrong"]["score"], rows["wrong"]["max_score"]) == (2, 1, 2)
    assert f"Likely misconception: {MISTAKE_SENTENCE}" in (out / "wrong.md").read_text()
    demo = tmp_path / "demo"
    run("-m", "autograder", "demo", "--course", course, "--out", demo)
    scores = {row["name"]: row["score"] for row in json.loads((demo / "summary.json").read_text())["submissions"]}
    assert scores == {"untouched-release": 0, "reference-solution": 2, "tiny-clip-upper-only": 1}


def test_its_gradescope_bundle_grades_it_like_the_command_line(course, tmp_path):
    bundle = tmp_path / "autograder.zip"
    run("-m", "autograder.gradescope", "build", "--course", course, "--assignment", "tiny", "--out", bundle)
    root = tmp_path / "autograder"
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(root / "source")
        assert not [n for n in archive.namelist() if "batchnorm" in n]
    for script in ("run_autograder", "setup.sh"):
        (root / "source" / script).chmod(0o755)
    shutil.copy2(root / "source" / "run_autograder", root / "run_autograder")
    results, _ = run_autograder(root, course / "wrong")
    cli = tmp_path / "cli.json"
    run("-m", "autograder", "grade", course / "wrong", "--course", course, "--assignment", "tiny", "--json", cli)
    graded = [{k: v for k, v in r.items() if k != "execution_time"} for r in (results, json.loads(cli.read_text()))]
    assert graded[0] == graded[1] and results["score"] == 1


@pytest.mark.slow
def test_nbgrader_autogrades_it_like_the_command_line(course):
    submitted = course / "submitted" / "student" / "tiny"
    shutil.copytree(course / "wrong", submitted)
    nbgrader(course, "generate_assignment", "tiny", "--force")
    nbgrader(course, "autograde", "tiny", "--force")
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        grades = {g.name: g.score for nb in gradebook.find_submission("tiny", "student").notebooks for g in nb.grades}
    assert grades == {"grade-double": 1, "grade-clipped": 0}
