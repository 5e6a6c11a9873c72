"""nbgrader's own commands end to end, from a course folder laid out like this repository:
generate_assignment, autograde, generate_feedback, export. The points nbgrader gives for
the module grade cells must equal the command line's group scores."""
import filecmp
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from conftest import RELEASE, ROOT, SOLUTIONS

from autograder import public
from autograder.grade import grade_submission
from autograder.misconceptions import CATALOGUE, apply

pytestmark = pytest.mark.slow
STUDENTS = ("solution", "untouched", "buggy", "tamperer")
TAMPERED_CELL = "grade-preprocessing"


def nbgrader(course, *args):
    env = {**os.environ, "BATCHNORM_SMOKE": "1",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def edit_cell(path, cell_id, source):
    nb = nbformat.read(path, as_version=4)
    next(c for c in nb.cells if c.id == cell_id).source = source
    nbformat.write(nb, path)


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A course graded by nbgrader: (folder, autograde log)."""
    course = tmp_path_factory.mktemp("course")
    shutil.copytree(ROOT / "assignment", course / "assignment", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "nbgrader_config.py", course)
    nbgrader(course, "generate_assignment", "batchnorm", "--force")
    sources = {"solution": SOLUTIONS, "untouched": RELEASE, "buggy": SOLUTIONS, "tamperer": SOLUTIONS}
    for student, source in sources.items():
        shutil.copytree(source, course / "submitted" / student / "batchnorm",
                        ignore=shutil.ignore_patterns("__pycache__", "executed"))
    buggy = course / "submitted" / "buggy" / "batchnorm"
    mistake = next(m for m in CATALOGUE if m.id == "bn-unbiased-variance")
    (buggy / "batchnorm.py").write_text(apply(mistake, (buggy / "batchnorm.py").read_text()))
    edit_cell(buggy / "WeightInitialization.ipynb", "answer-zero-init", 'answer_zero_init = "A"')
    edit_cell(course / "submitted" / "tamperer" / "batchnorm" / "DataPreprocessing.ipynb", TAMPERED_CELL, "10.0")
    log = nbgrader(course, "autograde", "batchnorm", "--force")
    nbgrader(course, "generate_feedback", "batchnorm", "--force")
    nbgrader(course, "export")
    return course, log


def cell_scores(course, student):
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        submission = gb.find_submission("batchnorm", student)
        return {g.name: (g.score, g.max_score) for nb in submission.notebooks for g in nb.grades}


def test_plain_generate_assignment_gives_the_committed_release(course):
    folder, _ = course
    for path in sorted(RELEASE.glob("*")):
        if path.is_file():
            assert filecmp.cmp(path, folder / "release" / "batchnorm" / path.name, shallow=False), path.name


def test_module_grade_cells_agree_with_the_command_line(course):
    folder, _ = course
    for student in STUDENTS:
        scores = cell_scores(folder, student)
        graded = grade_submission(folder / "submitted" / student / "batchnorm")
        for group, (score, total) in public.report.group_scores(graded.outcomes).items():
            assert scores[f"grade-{group.replace('_', '-')}"] == (score, total), (student, group)


def test_totals_full_for_the_solution_zero_for_the_release(course):
    folder, _ = course
    totals = {s: sum(v[0] for v in cell_scores(folder, s).values()) for s in STUDENTS}
    maximum = sum(v[1] for v in cell_scores(folder, "solution").values())
    assert totals["solution"] == maximum == 78
    assert totals["untouched"] == 0
    assert totals["buggy"] == maximum - 35 - 2  # batchnorm groups 65 -> 30, and one wrong answer
    assert totals["tamperer"] == maximum  # the edited grade cell was put back and graded
    rows = (folder / "grades.csv").read_text().splitlines()
    assert len(rows) == 1 + len(STUDENTS)


def test_only_a_real_edit_of_a_locked_cell_is_reported(course):
    _, log = course
    changed = [line for line in log.splitlines() if "has changed" in line]
    assert len(changed) == 1 and TAMPERED_CELL in changed[0]


def test_feedback_shows_the_sentences_but_no_hidden_test_or_traceback(course):
    folder, _ = course
    feedback = folder / "feedback" / "buggy" / "batchnorm"
    html = {p.name: p.read_text() for p in feedback.glob("*.html")}
    assert len(html) == 3
    assert "Likely misconception: your batch variance is the unbiased one" in html["BatchNormalization.html"]
    for name, text in html.items():
        for secret in ("BEGIN HIDDEN TESTS", "grade_group(", 'answer_zero_init == "B"', "Traceback (most recent"):
            assert secret not in text, f"{name} shows {secret!r}"
    assert "AssertionError" in html["WeightInitialization.html"]
