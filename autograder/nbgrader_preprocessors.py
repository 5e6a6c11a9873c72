"""nbgrader preprocessors that make autograding and feedback trustworthy.

Configured in ``nbgrader_config.py``:

- ``OverwriteReleasedCells`` replaces nbgrader's ``OverwriteCells`` at autograde. A
  locked cell with hidden tests always differs from what the gradebook recorded (the
  student never saw the hidden block), so nbgrader warns "Attribute 'checksum' ... has
  changed!" for every honest submission (jupyter/nbgrader#1961). Here a cell that is
  exactly its released version gets its hidden tests back silently; only a cell the
  student really edited is reported, so a tampering warning stands out.
- ``ShortTracebacks`` runs before feedback is rendered: an error output keeps its type
  and message but loses the traceback, whose source lines would show hidden tests.
  (nbgrader's ``ClearHiddenTests`` removes the hidden blocks from the cells themselves.)
"""
import copy

from nbgrader.preprocessors import ClearHiddenTests, NbGraderPreprocessor, OverwriteCells

_clear_hidden = ClearHiddenTests(enforce_metadata=False)


def released_source(cell, source):
    """``source`` as students received it in ``cell``: without hidden-test blocks."""
    released = copy.deepcopy(cell)
    released.source = source
    return _clear_hidden.preprocess_cell(released, {}, 0)[0].source


class OverwriteReleasedCells(OverwriteCells):
    def preprocess_cell(self, cell, resources, cell_index):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id is not None and cell.metadata.nbgrader.get("locked"):
            try:
                source = self.gradebook.find_source_cell(grade_id, self.notebook_id, self.assignment_id).source
            except Exception:  # unknown cell: let nbgrader report it
                source = None
            if source is not None and cell.source == released_source(cell, source):
                cell.source = source
        return super().preprocess_cell(cell, resources, cell_index)


class ShortTracebacks(NbGraderPreprocessor):
    def preprocess_cell(self, cell, resources, cell_index):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                output["traceback"] = [f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"]
        return cell, resources
