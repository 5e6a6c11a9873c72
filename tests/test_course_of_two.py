"""A course of two assignments under nbgrader, as an instructor runs it: one course
folder, both assignments generated, autograded and exported into one gradebook and
one grades.csv, each module grade cell worth what the command line gives."""
import csv
import shutil

import pytest
from test_nbgrader_workflow import nbgrader
from test_normalization import NORMALIZATION, POINTS

from autograder.assignments import load
from autograder.grade import grade_submission
from autograder.kit.report import group_scores
from autograder.misconceptions import apply
from autograder.notebook import grade_cells
from conftest import ROOT

pytestmark = pytest.mark.slow
BATCHNORM = load("batchnorm", ROOT)
# Who submits what: (source folder, catalogued mistake applied or None).
SUBMISSIONS = {
    "batchnorm": {"alice": ("solutions", None), "bob": ("release", None)},
    "normalization": {"alice": ("solutions", None), "bob": ("solutions", "gn-statistics-over-batch")},
}
GRADED = {"batchnorm": BATCHNORM, "normalization": NORMALIZATION}
QUESTIONS = {"batchnorm": 13, "normalization": 16}


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    course = tmp_path_factory.mktemp("course")
    shutil.copytree(ROOT / "assignment", course / "assignment", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "nbgrader_config.py", course)
    for name, students in SUBMISSIONS.items():
        nbgrader(course, "generate_assignment", name, "--force")
        for student, (version, mistake_id) in students.items():
            folder = course / "submitted" / student / name
            shutil.copytree(ROOT / version / name, folder, ignore=shutil.ignore_patterns("__pycache__", "executed"))
            if mistake_id:
                [mistake] = [m for m in GRADED[name].catalogue if m.id == mistake_id]
                module = folder / f"{GRADED[name].module_of(mistake.function)}.py"
                module.write_text(apply(mistake, module.read_text(), module.stem))
        nbgrader(course, "autograde", name, "--force")
    nbgrader(course, "export")
    return course


def cell_scores(course, name, student):
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        submission = gradebook.find_submission(name, student)
        return {g.name: (g.score, g.max_score) for nb in submission.notebooks for g in nb.grades}


def test_both_releases_are_the_committed_ones(course):
    for name in SUBMISSIONS:
        for path in sorted((ROOT / "release" / name).glob("*.ipynb")):
            assert path.read_bytes() == (course / "release" / name / path.name).read_bytes(), path


@pytest.mark.parametrize("name", SUBMISSIONS)
def test_module_grade_cells_give_what_the_command_line_gives(course, name):
    cells = grade_cells(GRADED[name])
    for student in SUBMISSIONS[name]:
        scores = cell_scores(course, name, student)
        graded = grade_submission(course / "submitted" / student / name, assignment=GRADED[name])
        assert {cell: scores[cell] for cell in cells} == {
            cell: group_scores(graded.outcomes)[group] for cell, group in cells.items()}


def test_one_gradebook_and_one_csv_hold_both_assignments(course):
    rows = list(csv.DictReader((course / "grades.csv").open()))
    scores = {(row["assignment"], row["student_id"]): (float(row["score"]), float(row["max_score"])) for row in rows}
    modules = {name: sum(c.points for c in graded.checks) for name, graded in GRADED.items()}
    maximum = {name: modules[name] + QUESTIONS[name] for name in GRADED}
    assert maximum == {"batchnorm": 78, "normalization": 90}
    lost = modules["normalization"] - grade_submission(course / "submitted" / "bob" / "normalization",
                                                       assignment=NORMALIZATION).score
    assert 0 < lost <= POINTS["spatial_groupnorm_forward"]  # the mistake costs its own function only
    assert scores == {("batchnorm", "alice"): (78, 78), ("batchnorm", "bob"): (0, 78),
                      ("normalization", "alice"): (90, 90), ("normalization", "bob"): (90 - lost, 90)}

