"""nbgrader preprocessors that make autograding and feedback trustworthy.

Configured in ``nbgrader_config.py``:

- ``GradeModuleCells`` runs at autograde after the notebook was executed: every
  module grade cell gets the grader's outputs, computed in nbgrader's own process from
  the submitted modules (see ``autograder/notebook.py``). The student's kernel does not
  run these cells (``SkipModuleCells``, when sanitizing), so a module that shadows or
  patches the public checks, or a cell left without output, earns exactly what the
  command line gives. ``StartModuleGrading``, the last sanitizing step, starts that
  grading early so that it runs while the kernel executes.
- ``OverwriteReleasedCells`` replaces nbgrader's ``OverwriteCells`` at autograde. A
  locked cell with hidden tests always differs from what the gradebook recorded (the
  student never saw the hidden block), so nbgrader warns "Attribute 'checksum' ... has
  changed!" for every honest submission (jupyter/nbgrader#1961). Here a cell that is
  exactly its released version gets its hidden tests back silently; only a cell the
  student really edited is reported, so a tampering warning stands out. A deleted
  grade cell is put back where it was.
- ``InertOutputs`` runs at autograde right after the notebook was executed: what
  student code displayed keeps only output types that no page runs (text, PNG and JPEG
  images, their data checked to be base64, without the metadata nbconvert pastes into
  the page unescaped), and a student's own Markdown cells lose active HTML. A
  ``display(HTML("<script>..."))`` or an ``onerror=`` then reaches neither the autograded
  notebook that formgrader shows instructors nor the feedback.
- ``ShortTracebacks`` runs before feedback is rendered: an error output keeps its type
  and message but loses the traceback, whose source lines would show hidden tests.
  (nbgrader's ``ClearHiddenTests`` removes the hidden blocks from the cells themselves.)
- ``WrapLongLines`` runs after ``CSSHTMLHeaderPreprocessor`` in feedback: outputs wrap
  at the page's width instead of running off-screen.
"""
import binascii
import copy
import hashlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from nbclient import NotebookClient
from nbconvert.preprocessors.sanitize import SanitizeHTML
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import ClearHiddenTests, NbGraderPreprocessor, OverwriteCells
from traitlets import Set

from .assignments import load
from .grade import MAX_MODULE_BYTES, grade_submission
from .notebook import grade_cells, group_outputs

_clear_hidden = ClearHiddenTests(enforce_metadata=False)
SKIP_TAG = NotebookClient.skip_cells_with_tag.default_value  # nbgrader's kernel does not run these cells


def released_source(cell, source):
    """``source`` as students received it in ``cell``: without hidden-test blocks."""
    released = copy.deepcopy(cell)
    released.source = source
    return _clear_hidden.preprocess_cell(released, {}, 0)[0].source


class OverwriteReleasedCells(OverwriteCells):
    def preprocess_cell(self, cell, resources, cell_index):
        grade_id = _grade_id(cell)
        # Only grade cells hold hidden tests: the others need no second database lookup.
        if grade_id is not None and cell.metadata.nbgrader.get("grade") and cell.metadata.nbgrader.get("locked"):
            try:
                source = self.gradebook.find_source_cell(grade_id, self.notebook_id, self.assignment_id).source
            except Exception:  # unknown cell: let nbgrader report it
                source = None
            if source is not None and cell.source == released_source(cell, source):
                cell.source = source
        return super().preprocess_cell(cell, resources, cell_index)

    def add_missing_grade_cells(self, nb, resources):
        """Put back every grade cell the submission lacks, after the closest earlier cell
        of the source that it still has. (nbgrader's own version fails on the whole
        submission when the cell before a deleted grade cell is neither a grade nor a
        solution cell, as before every module grade cell here.)"""
        source_nb = self.gradebook.find_notebook(self.notebook_id, self.assignment_id)
        source_ids = [cell.name for cell in source_nb.source_cells]
        grade_cells = {cell.name: cell for cell in source_nb.grade_cells}
        solution_ids = {cell.name for cell in source_nb.solution_cells}
        for position, source_cell in enumerate(source_nb.source_cells):
            if source_cell.name not in grade_cells or source_cell.name in map(_grade_id, nb.cells):
                continue
            self.log.warning("Missing grade cell %s encountered, adding to notebook", source_cell.name)
            earlier = set(source_ids[:position])
            index = max((i + 1 for i, cell in enumerate(nb.cells) if _grade_id(cell) in earlier), default=0)
            nb.cells.insert(index, self.missing_cell_transform(
                source_cell, grade_cells[source_cell.name].max_score, is_solution=source_cell.name in solution_ids))
        return nb, resources


def _grade_id(cell):
    return cell.metadata.get("nbgrader", {}).get("grade_id")


class InertOutputs(NbGraderPreprocessor, SanitizeHTML):
    """nbconvert's SanitizeHTML keeping only inert outputs (see the module's docstring);
    the instructor's locked cells are left as they are."""

    IMAGES = ("image/png", "image/jpeg")

    safe_output_keys = Set({"text/plain", *IMAGES}, config=True)
    sanitized_output_types = Set(set(), config=True)  # HTML and Markdown outputs go; each has its text/plain

    def preprocess_cell(self, cell, resources, cell_index):
        if cell.cell_type != "code":
            locked = cell.metadata.get("nbgrader", {}).get("locked")
            return (cell, resources) if locked else super().preprocess_cell(cell, resources, cell_index)
        cell, resources = super().preprocess_cell(cell, resources, cell_index)
        for output in cell.outputs:
            if "metadata" in output:
                output["metadata"] = {}
            data = output.get("data", {})
            for key in [key for key in self.IMAGES if key in data]:
                if not _base64(data[key]):
                    del data[key]
        return cell, resources


def _base64(text):
    try:
        binascii.a2b_base64(text.replace("\n", "").encode("ascii"), strict_mode=True)
    except (ValueError, AttributeError, UnicodeEncodeError):
        return False
    return True


class ShortTracebacks(NbGraderPreprocessor):
    def preprocess_cell(self, cell, resources, cell_index):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                output["traceback"] = [f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"]
        return cell, resources


def assignment(resources, preprocessor):
    """The assignment being autograded, from the course nbgrader runs in."""
    return load(resources["nbgrader"]["assignment"], CourseDirectory(parent=preprocessor).root)


def _fingerprint(folder):
    """The modules the grader would read in ``folder``, as a digest."""
    digest = hashlib.sha256()
    for path in sorted(Path(folder).glob("*.py")):
        if not path.is_symlink() and path.is_file() and path.stat().st_size <= MAX_MODULE_BYTES:
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


# nbgrader autogrades a student's notebooks in a row: one submission's grading is kept,
# under its folder and the fingerprint of its modules, so that a long-lived process
# (formgrader) never reuses the grades of an earlier version of the submission.
_grading = {}
_grader = ThreadPoolExecutor(max_workers=1)


class _SubmissionGrading(NbGraderPreprocessor):
    def grading(self, resources):
        """The grading of the submitted modules (a future): of the submitted folder, not
        the one the kernel runs in, where a notebook cell could rewrite the modules."""
        coursedir = CourseDirectory(parent=self)
        info = resources["nbgrader"]
        folder = coursedir.format_path(coursedir.submitted_directory, info["student"], info["assignment"])
        key = (folder, _fingerprint(folder))
        if key not in _grading:
            _grading.clear()
            graded = assignment(resources, self)
            _grading[key] = _grader.submit(grade_submission, folder, assignment=graded, name=info["student"])
            _grading[key].add_done_callback(self._report_faults)
        return _grading[key]

    def _report_faults(self, future):
        for what, why in future.result().faults:
            self.log.warning("The grader failed on %s: %s", what, why)


class StartModuleGrading(_SubmissionGrading):
    """Sanitizing: start grading the modules, which then runs while the kernel executes."""

    def preprocess(self, nb, resources):
        self.grading(resources)
        return nb, resources


class SkipModuleCells(NbGraderPreprocessor):
    """Sanitizing: the kernel will run every cell but the module grade cells, whose
    outputs ``GradeModuleCells`` writes. The tag that makes nbgrader's kernel skip a cell
    is taken off every other cell, so that a student cannot skip a question's grade
    cell (nbgrader gives a cell without output full points)."""

    def preprocess(self, nb, resources):
        self._cells = grade_cells(assignment(resources, self))
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, cell_index):
        tags = [t for t in cell.metadata.get("tags", []) if t != SKIP_TAG]
        if _grade_id(cell) in self._cells:
            tags.append(SKIP_TAG)
        if tags or "tags" in cell.metadata:
            cell.metadata["tags"] = tags
        return cell, resources


class GradeModuleCells(_SubmissionGrading):
    def preprocess(self, nb, resources):
        self._outcomes = self.grading(resources).result().outcomes
        self._cells = grade_cells(assignment(resources, self))
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, cell_index):
        group = self._cells.get(_grade_id(cell))
        if group is not None and cell.cell_type == "code":
            outcomes = [o for o in self._outcomes if o.check.group == group]
            cell.outputs = group_outputs(outcomes, group)
            cell.metadata["tags"] = [t for t in cell.metadata.get("tags", []) if t != SKIP_TAG]
            if not cell.metadata["tags"]:
                del cell.metadata["tags"]
        return cell, resources


class WrapLongLines(NbGraderPreprocessor):
    CSS = ".output_area pre, .input_area pre { white-space: pre-wrap; overflow-wrap: anywhere; }"

    def preprocess(self, nb, resources):
        resources.setdefault("inlining", {}).setdefault("css", []).append(self.CSS)
        return nb, resources
