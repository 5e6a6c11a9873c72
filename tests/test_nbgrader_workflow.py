"""nbgrader's own commands end to end, from a course folder laid out like this repository:
generate_assignment, autograde, generate_feedback, export. The points nbgrader gives for
the module grade cells must equal the command line's group scores, whatever the student's
kernel did in those cells."""
import filecmp
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder.grade import grade_submission
from autograder.kit.report import group_scores
from autograder.misconceptions import apply
from autograder.nbgrader_preprocessors import WrapLongLines
from autograder.notebook import grade_cells
from conftest import GRADED, RELEASE, ROOT, SOLUTIONS

pytestmark = pytest.mark.slow
STUDENTS = ("solution", "untouched", "buggy", "tamperer", "measurer", "shadower", "patcher", "silencer", "displayer")
TAMPERED_CELL = "grade-preprocessing"
EMPTIED_CELL = "grade-batchnorm-forward"
GRADE_CELLS = grade_cells(GRADED)
FULL_MARKS = sum(c.points for c in GRADED.checks) + 13  # the notebooks' questions: 13 points
MODULE_POINTS = {group: sum(c.points for c in GRADED.checks if c.group == group) for group in GRADE_CELLS.values()}
# Run by the kernel in place of the public checks: full points for every group, and a
# table that says so (the kernel's grade cells would report these to nbgrader).
FORGED_RUN_PUBLIC = f"""
def forged_run_public(group):
    print("Public checks: " + group + ": every check passed")
    return {MODULE_POINTS!r}[group]
"""
# Imported by training.py (from the notebooks' first cell) instead of the real package.
SHADOWING_PACKAGE = f"""import contextlib
import selfcheck

def threadpool_limits(*args, **kwargs):
    return contextlib.nullcontext()
{FORGED_RUN_PUBLIC}
selfcheck.run_public = forged_run_public
"""
# The last two numeric answers, computed from the notebook's (small) experiments.
MEASURED_ANSWERS = {
    "answer-shrink-factor": 'stds = std_per_layer["Gaussian weights, std 0.01, tanh"]\n'
                            'answer_shrink_factor = float((stds[-1] / stds[0]) ** (1 / 9))',
    "answer-xavier-relu-factor": 'stds = std_per_layer["Xavier weights, ReLU (for comparison)"]\n'
                                 'answer_xavier_relu_factor = float((stds[-1] / stds[0]) ** (1 / 9))',
}

# Displayed by a solution cell: active content (built as it runs, so that the cell's
# source, which feedback shows as text, does not hold it), and a plot, which must stay.
ACTIVE_OUTPUTS = """
from IPython.display import HTML, Javascript, display
display(HTML("<img src=x one" + "rror=alert(document.domain)><scr" + "ipt>alert(1)</script>"))
display(Javascript("window.pw" + "ned = 2"))
display({"image/png": '"><scr' + 'ipt>alert(3)</script>', "text/plain": "forged"}, raw=True)
import io
from IPython.display import Image
import matplotlib.pyplot as plt
figure, png = plt.figure(), io.BytesIO()
plt.plot([0, 1])
figure.savefig(png, format="png")
display(Image(png.getvalue()))
plt.close(figure)
"""
ACTIVE_MARKDOWN = "<img src=x onerror=alert(4)> a cell of my own"
ACTIVE = ("<script>alert", "onerror=alert(document", "window.pwned", "<img src=x onerror=alert(4)")

def nbgrader(course, *args):
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def edit_cell(path, cell_id, source=None, tags=None):
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if c.id == cell_id)
    if source is not None:
        cell.source = source
    if tags is not None:
        cell.metadata.tags = tags
    nbformat.write(nb, path)


def delete_cell(path, cell_id):
    nb = nbformat.read(path, as_version=4)
    nb.cells = [c for c in nb.cells if c.id != cell_id]
    nbformat.write(nb, path)


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A course graded by nbgrader: (folder, autograde log)."""
    course = tmp_path_factory.mktemp("course")
    shutil.copytree(ROOT / "assignment", course / "assignment", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "nbgrader_config.py", course)
    nbgrader(course, "generate_assignment", "batchnorm", "--force")
    sources = {"solution": SOLUTIONS, "untouched": RELEASE, "buggy": SOLUTIONS, "tamperer": SOLUTIONS,
               "measurer": SOLUTIONS, "shadower": RELEASE, "patcher": RELEASE, "silencer": SOLUTIONS,
               "displayer": SOLUTIONS}
    submitted = {}
    for student, source in sources.items():
        submitted[student] = course / "submitted" / student / "batchnorm"
        shutil.copytree(source, submitted[student], ignore=shutil.ignore_patterns("__pycache__", "executed"))
    mistake = next(m for m in GRADED.catalogue if m.id == "bn-unbiased-variance")
    for student in ("buggy", "silencer"):
        module = submitted[student] / "batchnorm.py"
        module.write_text(apply(mistake, module.read_text(), "batchnorm"))
    edit_cell(submitted["buggy"] / "WeightInitialization.ipynb", "answer-zero-init", 'answer_zero_init = "A"')
    # Tagged for nbgrader's kernel to skip it: a grade cell without output would get full points.
    edit_cell(submitted["buggy"] / "WeightInitialization.ipynb", "check-zero-init", tags=["skip-execution"])
    edit_cell(submitted["tamperer"] / "DataPreprocessing.ipynb", TAMPERED_CELL, "10.0")
    for cell_id, source in MEASURED_ANSWERS.items():
        edit_cell(submitted["measurer"] / "WeightInitialization.ipynb", cell_id, source)
    (submitted["shadower"] / "threadpoolctl").mkdir()
    (submitted["shadower"] / "threadpoolctl" / "__init__.py").write_text(SHADOWING_PACKAGE)
    # A solution cell run before the batchnorm grade cells patches the public checks:
    # full points, or (silencer) nothing at all, which nbgrader alone scores as full points.
    patched = "answer_steps_to_one_percent = 44\nimport selfcheck\n"
    edit_cell(submitted["patcher"] / "BatchNormalization.ipynb", "answer-steps-to-one-percent",
              patched + FORGED_RUN_PUBLIC + "selfcheck.run_public = forged_run_public")
    edit_cell(submitted["silencer"] / "BatchNormalization.ipynb", "answer-steps-to-one-percent",
              patched + "selfcheck.run_public = lambda group: None")
    edit_cell(submitted["silencer"] / "BatchNormalization.ipynb", EMPTIED_CELL, "")
    delete_cell(submitted["silencer"] / "BatchNormalization.ipynb", "grade-batchnorm-backward")
    notebook = submitted["displayer"] / "DataPreprocessing.ipynb"
    edit_cell(notebook, "answer-statistics", nbformat.read(notebook, as_version=4).cells[
        next(i for i, c in enumerate(nbformat.read(notebook, as_version=4).cells) if c.id == "answer-statistics")
    ].source + ACTIVE_OUTPUTS)
    nb = nbformat.read(notebook, as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell(ACTIVE_MARKDOWN))
    nbformat.write(nb, notebook)
    log = nbgrader(course, "autograde", "batchnorm", "--force")
    nbgrader(course, "generate_feedback", "batchnorm", "--force")
    nbgrader(course, "export")
    return course, log


def cell_scores(course, student):
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        submission = gb.find_submission("batchnorm", student)
        return {g.name: (g.score, g.max_score) for nb in submission.notebooks for g in nb.grades}


def module_points(course, student):
    return sum(score for name, (score, _) in cell_scores(course, student).items() if name in GRADE_CELLS)


def test_plain_generate_assignment_gives_the_committed_release(course):
    folder, _ = course
    for path in sorted(RELEASE.glob("*")):
        if path.is_file():
            assert filecmp.cmp(path, folder / "release" / "batchnorm" / path.name, shallow=False), path.name


def test_module_grade_cells_agree_with_the_command_line(course):
    """Also for the forgeries below, and for emptied, deleted or silent grade cells."""
    folder, _ = course
    for student in STUDENTS:
        scores = cell_scores(folder, student)
        graded = grade_submission(folder / "submitted" / student / "batchnorm")
        for group, (score, total) in group_scores(graded.outcomes).items():
            assert scores[f"grade-{group.replace('_', '-')}"] == (score, total), (student, group)


@pytest.mark.parametrize("student", ["shadower", "patcher"])
def test_forged_public_checks_earn_no_module_points(course, student):
    """Stub modules, and a kernel whose grade cells report full points: a package named
    like a module the notebooks import (shadower) or a solution cell (patcher) replaced
    the public checks."""
    folder, _ = course
    assert module_points(folder, student) == 0


def test_silent_emptied_and_deleted_grade_cells_earn_what_the_command_line_gives(course):
    """The silencer's batchnorm grade cells (one emptied, one deleted) print and return
    nothing, which nbgrader alone scores as full points."""
    folder, _ = course
    graded = grade_submission(folder / "submitted" / "buggy" / "batchnorm")  # the same modules as the silencer's
    assert graded.score < graded.max_score
    assert module_points(folder, "silencer") == module_points(folder, "buggy") == graded.score


def test_totals_full_for_the_solution_zero_for_the_release(course):
    folder, _ = course
    totals = {s: sum(v[0] for v in cell_scores(folder, s).values()) for s in STUDENTS}
    maximum = sum(v[1] for v in cell_scores(folder, "solution").values())
    modules = sum(c.points for c in GRADED.checks)
    assert totals["solution"] == maximum == modules + 13  # the notebooks' questions: 13 points
    assert totals["untouched"] == 0
    lost = modules - grade_submission(folder / "submitted" / "buggy" / "batchnorm").score
    assert totals["buggy"] == maximum - lost - 2  # and one wrong (skipped) answer
    assert totals["tamperer"] == maximum  # the edited grade cell was put back and graded
    assert totals["measurer"] == maximum  # answers measured on the small experiments are right
    rows = (folder / "grades.csv").read_text().splitlines()
    assert len(rows) == 1 + len(STUDENTS)


def test_autograde_runs_the_small_experiments_without_figures(course):
    folder, _ = course
    nb = nbformat.read(folder / "autograded" / "solution" / "batchnorm" / "WeightInitialization.ipynb", as_version=4)
    outputs = [out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs]
    assert not any("image/png" in out.get("data", {}) for out in outputs)
    assert any(out.get("data", {}).get("text/plain", "").startswith("<Figure size") for out in outputs)
    setup = next(cell for cell in nb.cells if cell.id == "setup")
    assert not setup.outputs


def test_the_sandboxed_kernel_changes_nothing_in_an_honest_notebook(course):
    """The solution's notebooks run in their kernel's sandbox without an error or a
    warning in any cell."""
    folder, _ = course
    for path in sorted((folder / "autograded" / "solution" / "batchnorm").glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            for out in cell.get("outputs", []):
                assert out.output_type != "error" and out.get("name") != "stderr", (path.name, cell.id, out)


def test_only_a_real_edit_of_a_locked_cell_is_reported(course):
    _, log = course
    changed = {line.split(" for cell ")[1].split()[0] for line in log.splitlines() if "has changed" in line}
    assert changed == {TAMPERED_CELL, EMPTIED_CELL}


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
    assert "Grading: batchnorm_forward" in html["BatchNormalization.html"]
    assert all(WrapLongLines.CSS in text for text in html.values()), "long lines must wrap"


def test_what_student_code_displays_reaches_instructors_and_feedback_inert(course):
    """No script, event handler or JavaScript output of a student's cells in the notebook
    formgrader shows nor in the feedback; the plot stays, and the points."""
    folder, _ = course
    notebook = (folder / "autograded" / "displayer" / "batchnorm" / "DataPreprocessing.ipynb").read_text()
    feedback = (folder / "feedback" / "displayer" / "batchnorm" / "DataPreprocessing.html").read_text()
    for text in (notebook, feedback):
        assert not [active for active in ACTIVE if active in text]
    assert '"image/png": "iVBOR' in notebook and "data:image/png;base64,iVBOR" in feedback
    assert "&lt;img src=x onerror" in feedback  # the student's Markdown, as text
    assert sum(v[0] for v in cell_scores(folder, "displayer").values()) == FULL_MARKS


@pytest.mark.parametrize("name", ["batchnorm", "normalization"])
def test_validate_passes_the_solution_and_fails_the_release_with_the_public_feedback(name):
    """``nbgrader validate`` (which exits 0 either way) reads a module grade cell's result
    as partial credit of the cell's points: it must pass every cell of the solution, and
    fail the release's module grade cells with the public checks' results."""
    solutions = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "solutions" / name).glob("*.ipynb"))
    log = nbgrader(ROOT, "validate", *solutions)
    assert log.count("Success! Your notebook passes all the tests.") == len(solutions), log
    release = next(p for p in sorted((ROOT / "release" / name).glob("*.ipynb")) if "run_public(" in p.read_text())
    log = nbgrader(ROOT, "validate", str(release.relative_to(ROOT)))
    assert "VALIDATION FAILED" in log
    assert "Partial credit" not in log and "Public checks: " in log and "What to fix" in log, log
