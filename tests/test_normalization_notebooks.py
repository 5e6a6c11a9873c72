"""The normalization assignment's notebooks: well-formed nbgrader sources whose grade
cells carry the autograder's points, a solution version that runs top to bottom and
draws its figures, a release that runs up to its first stub, and small experiments
without figures when nbgrader grades."""
import re
import shutil

import nbformat
import pytest
from test_normalization import NORMALIZATION, RELEASE, SOLUTIONS
from test_notebooks import CELL_ID, MODULE_GRADE_CALL, NBGRADER_KEYS, client_for, first_error, nbgrader, text_outputs

from autograder.notebook import grade_cells

MASTER = NORMALIZATION.master
GRADE_CELLS = grade_cells(NORMALIZATION)
NOTEBOOKS = ("LayerNormalization.ipynb", "SpatialNormalization.ipynb", "BatchSize.ipynb")
FIGURE_CELLS = {"LayerNormalization.ipynb": {"axes"}, "SpatialNormalization.ipynb": {"axes"},
                "BatchSize.ipynb": {"gap", "fc-experiment", "conv-experiment"}}
# Lines the solution version must print: each is a computed fact the notebook teaches.
EXPECTED_OUTPUT = {
    "LayerNormalization.ipynb": ["an example normalized alone gives the same output as in its batch: True",
                                 "every example stretched and shifted by its own factors, the same output: True"],
    "SpatialNormalization.ipynb": ["G = 1 is layer normalization of every example's C * H * W values: True",
                                   "G = C: every map of every example has mean 0: True"],
    "BatchSize.ipynb": ["group normalization, each example alone and in its batch, the same output: True",
                        "layer normalization, each example alone and in its batch, the same output: True"],
}
FIRST_STUB_CELL = {"LayerNormalization.ipynb": "forward", "SpatialNormalization.ipynb": "spatial-forward",
                   "BatchSize.ipynb": "gap"}
QUESTION_POINTS = 16


def read(folder, name):
    return nbformat.read(folder / name, as_version=4)


def copy_version(source, tmp_path):
    target = tmp_path / "normalization"
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "executed"))
    return target


@pytest.fixture
def smoke(monkeypatch):
    """Kernels started by the test run the notebooks' small, fast experiments."""
    monkeypatch.setenv("NORMALIZATION_SMOKE", "1")


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_source_notebook_is_a_clean_nbgrader_source(name):
    nb = read(MASTER, name)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "python3"
    ids = [cell.id for cell in nb.cells]
    assert len(ids) == len(set(ids)), f"{name}: duplicate cell ids"
    for cell in nb.cells:
        where = f"{name}, cell {cell.id}"
        assert CELL_ID.match(cell.id), where
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{where}: has outputs"
        meta = nbgrader(cell)
        assert set(meta) == NBGRADER_KEYS | ({"points"} if meta["grade"] else set()), where
        assert meta["grade_id"] == cell.id and meta["schema_version"] == 3, where
        if meta["grade"]:
            assert cell.cell_type == "code" and meta["locked"] and not meta["solution"], where
            assert meta["points"] > 0 and ("### BEGIN HIDDEN TESTS" in cell.source) != (cell.id in GRADE_CELLS), where
        elif meta["solution"]:
            assert cell.cell_type == "code" and not meta["locked"] and "### BEGIN SOLUTION" in cell.source, where
        else:
            assert meta["locked"], f"{where}: given text and code are locked"


def test_grade_cells_carry_the_autograders_points_and_the_questions_sixteen():
    autograder = {g: sum(c.points for c in NORMALIZATION.checks if c.group == g) for g in NORMALIZATION.spec.groups}
    found, questions = {}, 0
    for name in NOTEBOOKS:
        for cell in read(MASTER, name).cells:
            groups = MODULE_GRADE_CALL.findall(cell.source)
            if groups or cell.id in GRADE_CELLS:
                assert groups == [GRADE_CELLS.get(cell.id)] and groups[0] not in found, f"{name}, cell {cell.id}"
                found[groups[0]] = nbgrader(cell)["points"]
            elif nbgrader(cell)["grade"]:
                questions += nbgrader(cell)["points"]
    assert found == autograder
    assert questions == QUESTION_POINTS
    readme = (RELEASE / "README.md").read_text()
    assert f"{sum(autograder.values()):g} points" in readme and f"{sum(autograder.values()) + questions:g} points" \
        in readme


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_answer_cells_pass_their_own_grade_cells(name):
    cells = read(MASTER, name).cells
    answers = [c for c in cells if nbgrader(c)["solution"] and c.id.startswith("answer-")]
    assert answers
    for answer in answers:
        (check,) = [c for c in cells if c.id == answer.id.replace("answer-", "check-", 1)]
        assert cells.index(check) > cells.index(answer)
        namespace = {}
        exec(answer.source, namespace)  # the markers are comments: the master's cells run as they are
        exec(check.source, namespace)


def test_the_release_stands_on_its_own():
    for name in NOTEBOOKS:
        source = "".join(c.source for c in read(RELEASE, name).cells)
        assert "from batchnorm import" not in source and "batchnorm_forward(" not in source.replace(
            "spatial_batchnorm_forward(", "")


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
        if cell.id in GRADE_CELLS:
            assert "What to fix" not in text_outputs(cell), f"public checks failed on the solution in {cell.id}"
    errors = [float(e) for e in re.findall(r"relative error:\s+(\S+)", printed)]
    assert bool(errors) == (name != "BatchSize.ipynb")
    assert all(e < 1e-6 for e in errors), errors


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_release_notebook_runs_until_its_first_stub(name, tmp_path, smoke):
    folder = copy_version(RELEASE, tmp_path)
    assert first_error(read(folder, name), folder) == (FIRST_STUB_CELL[name], "NotImplementedError")


@pytest.mark.slow
def test_under_nbgrader_the_experiments_are_small_and_draw_no_figures(tmp_path, monkeypatch):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    folder = copy_version(SOLUTIONS, tmp_path)
    nb = read(folder, "BatchSize.ipynb")
    client_for(nb, folder).execute()
    outputs = [out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs]
    assert not any("image/png" in out.get("data", {}) for out in outputs)
    assert any(out.get("data", {}).get("text/plain", "").startswith("<Figure size") for out in outputs)
    fc = text_outputs(next(cell for cell in nb.cells if cell.id == "fc-experiment"))
    assert fc.count("final validation accuracy") == 3
