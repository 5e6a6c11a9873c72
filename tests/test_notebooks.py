"""The notebooks: well-formed nbgrader sources, a solution version that runs top to
bottom and draws its figures, and a release that runs up to its first stub."""
import re
import shutil

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from autograder.notebook import grade_cells
from builder.build import BuildError
from builder.execute import execute_solutions
from conftest import GRADED, MASTER, RELEASE, SOLUTIONS

GRADE_CELLS = grade_cells(GRADED)

NOTEBOOKS = ("DataPreprocessing.ipynb", "WeightInitialization.ipynb", "BatchNormalization.ipynb")
# One grade cell per check group (its id is in GRADE_CELLS); its points must equal the
# autograder's total for the group.
CELL_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
NBGRADER_KEYS = {"grade", "grade_id", "locked", "schema_version", "solution"}
FIGURE_CELLS = {
    "DataPreprocessing.ipynb": {"load-data", "raw-stats", "plot-cloud", "plot-feature-stats", "plot-one-image"},
    "WeightInitialization.ipynb": {"trial-zeros", "trial-small", "trial-large", "trial-xavier", "trial-he", "summary"},
    "BatchNormalization.ipynb": {"curves", "sweep"},
}
# Lines the solution version must print: each is a computed fact the notebook teaches.
EXPECTED_OUTPUT = {
    "DataPreprocessing.ipynb": ["standardize agrees with data_preprocess on the training set: True",
                                "one test image preprocessed on its own, largest |value|: 0.0"],
    "WeightInitialization.ipynb": ["every unit of every layer outputs the same as unit 0: True",
                                   "same seed, same weights: True"],
    "BatchNormalization.ipynb": ["an example normalized alone gives the same output as in its batch: True"],
}
FIRST_STUB_CELL = {"DataPreprocessing.ipynb": "apply", "WeightInitialization.ipynb": "sanity",
                   "BatchNormalization.ipynb": "forward-train"}
MODULE_GRADE_CALL = re.compile(r'^run_public\("(\w+)"\)$', re.MULTILINE)


def read(folder, name):
    return nbformat.read(folder / name, as_version=4)


def nbgrader(cell):
    return cell.metadata["nbgrader"]


def text_outputs(cell):
    return "".join(out.get("text", "") + out.get("data", {}).get("text/plain", "") for out in cell.outputs)


@pytest.fixture
def smoke(monkeypatch):
    """Kernels started by the test run the notebooks' small, fast experiments."""
    monkeypatch.setenv("BATCHNORM_SMOKE", "1")


def copy_version(source, tmp_path):
    target = tmp_path / "batchnorm"
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "executed"))
    return target


def client_for(nb, folder):
    return NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(folder)}})


# The source notebooks ---------------------------------------------------------------

@pytest.mark.parametrize("name", NOTEBOOKS)
def test_source_notebook_is_a_clean_nbgrader_source(name):
    nb = read(MASTER, name)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "python3"
    ids = [cell.id for cell in nb.cells]
    assert len(ids) == len(set(ids)), f"{name}: duplicate cell ids"
    for cell in nb.cells:
        where = f"{name}, cell {cell.id}"
        assert CELL_ID.match(cell.id), f"{where}: ids are fixed, lower-case words joined by '-'"
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{where}: has outputs"
        meta = nbgrader(cell)
        assert set(meta) == NBGRADER_KEYS | ({"points"} if meta["grade"] else set()), where
        assert meta["grade_id"] == cell.id and meta["schema_version"] == 3, where
        if meta["grade"]:
            assert cell.cell_type == "code" and meta["locked"] and not meta["solution"], where
            # Module grade cells are graded outside the kernel; questions by hidden tests.
            assert meta["points"] > 0 and ("### BEGIN HIDDEN TESTS" in cell.source) != (cell.id in GRADE_CELLS), where
        elif meta["solution"]:
            assert cell.cell_type == "code" and not meta["locked"], where
            assert "### BEGIN SOLUTION" in cell.source, where
        else:
            assert meta["locked"], f"{where}: given text and code are locked"


def test_module_grade_cells_cover_every_check_group_with_the_autograders_points():
    autograder_totals = {}
    for check in GRADED.checks:
        autograder_totals[check.group] = autograder_totals.get(check.group, 0) + check.points
    assert set(autograder_totals) == set(GRADED.spec.groups)

    found = {}
    for name in NOTEBOOKS:
        for cell in read(MASTER, name).cells:
            groups = MODULE_GRADE_CALL.findall(cell.source)
            if groups or cell.id in GRADE_CELLS:
                assert groups == [GRADE_CELLS.get(cell.id)] and nbgrader(cell)["grade"], f"{name}, cell {cell.id}"
                assert groups[0] not in found, f"group {groups[0]} has two grade cells"
                found[groups[0]] = nbgrader(cell)["points"]
    assert found == autograder_totals


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_answer_cells_pass_their_own_grade_cells(name):
    """The reference answers satisfy both the visible format checks and the hidden tests."""
    cells = read(MASTER, name).cells
    answers = [c for c in cells if nbgrader(c)["solution"] and c.id.startswith("answer-")]
    for answer in answers:
        check_id = answer.id.replace("answer-", "check-", 1)
        (check,) = [c for c in cells if c.id == check_id]
        assert cells.index(check) > cells.index(answer)
        namespace = {}
        exec(answer.source, namespace)  # the markers are comments: the master's cells run as they are
        exec(check.source, namespace)


# The solution version, executed ------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_solution_notebook_runs_top_to_bottom_and_draws_its_figures(name, tmp_path, smoke):
    folder = copy_version(SOLUTIONS, tmp_path)
    nb = read(folder, name)
    client_for(nb, folder).execute()

    drawn = {cell.id for cell in nb.cells if cell.cell_type == "code"
             and any("image/png" in out.get("data", {}) for out in cell.outputs)}
    assert drawn == FIGURE_CELLS[name]
    printed = "".join(text_outputs(cell) for cell in nb.cells if cell.cell_type == "code")
    for line in EXPECTED_OUTPUT[name]:
        assert line in printed
    for cell in nb.cells:
        if nbgrader(cell)["grade"] and MODULE_GRADE_CALL.search(cell.source):
            assert "What to fix" not in text_outputs(cell), f"public checks failed on the solution in {cell.id}"
    errors = [float(e) for e in re.findall(r"relative error:\s+(\S+)", printed)]
    assert bool(errors) == (name == "BatchNormalization.ipynb"), "only BatchNormalization checks gradients"
    assert all(e < 1e-6 for e in errors), errors


# The release version, executed up to the first stub ----------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_release_notebook_runs_until_its_first_stub(name, tmp_path, smoke):
    folder = copy_version(RELEASE, tmp_path)
    assert first_error(read(folder, name), folder) == (FIRST_STUB_CELL[name], "NotImplementedError")


def first_error(nb, folder):
    """(cell id, exception name) of the first code cell of ``nb`` that raises, run in ``folder``."""
    client = client_for(nb, folder)
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            try:
                client.execute_cell(cell, index)
            except CellExecutionError as error:
                return cell.id, error.ename
    return None


# The executed copies that `make solutions` writes -------------------------------------

def write_course_notebook(root, source):
    folder = root / "solutions" / "batchnorm"
    folder.mkdir(parents=True, exist_ok=True)
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                           "language": "python"}})
    nb.cells = [nbformat.v4.new_code_cell(source, id="only")]
    nbformat.write(nb, folder / "Tiny.ipynb")
    return folder


@pytest.mark.slow
def test_execute_solutions_writes_executed_copies_and_keeps_them_when_a_cell_fails(tmp_path):
    folder = write_course_notebook(tmp_path, "import os\nprint(os.getcwd())")
    (written,) = execute_solutions(tmp_path, "batchnorm")
    assert written == folder / "executed" / "Tiny.ipynb"
    ran_in = nbformat.read(written, as_version=4).cells[0].outputs[0].text.strip()
    assert ran_in != str(folder) and ran_in.endswith("batchnorm"), "runs in a temporary copy of the folder"
    assert read(folder, "Tiny.ipynb").cells[0].outputs == []

    write_course_notebook(tmp_path, "1 / 0")
    with pytest.raises(BuildError, match="Tiny.ipynb, cell only: ZeroDivisionError"):
        execute_solutions(tmp_path, "batchnorm")
    assert nbformat.read(written, as_version=4).cells[0].outputs[0].text.strip() == ran_in
