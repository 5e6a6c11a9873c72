"""nbgrader configuration for this course: every assignment in assignment/.

Run nbgrader from this folder. Paths are computed from this file so that nbgrader
never creates a stray gradebook elsewhere.
"""
from pathlib import Path

from autograder import assignments

c = get_config()  # noqa: F821 (provided by nbgrader)

ROOT = Path(__file__).resolve().parent

c.CourseDirectory.root = str(ROOT)
c.CourseDirectory.db_url = f"sqlite:///{ROOT / 'gradebook.db'}"
c.CourseDirectory.source_directory = "assignment"
c.CourseDirectory.release_directory = "release"
# Autograde copies the instructor's non-notebook files over the submission; the
# student's modules are their work and must be graded as submitted.
c.Autograde.exclude_overwriting = {name: list(assignments.load(name, ROOT).spec.modules)
                                   for name in assignments.names(ROOT)}
# nbgrader's default, plus an assignment's grading package (the hidden checks), which is
# never copied into a release or a student's folder.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "grading"]
# A grade cell a student deleted is put back and graded, never silently scored 0.
c.OverwriteCells.add_missing_cells = True

# nbgrader copies .py files verbatim; this hook replaces their solutions with stubs,
# pins the requirements students install and vendors the self-check.
c.GenerateAssignment.post_convert_hook = "builder.nbgrader_hook.finish_release"

# Autograde: honest submissions raise no checksum warning, so a real one stands out.
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor  # noqa: E402
from nbgrader.preprocessors import (CheckCellMetadata, ClearHiddenTests, ClearOutput,  # noqa: E402
                                    DeduplicateIds, GetGrades, OverwriteKernelspec)

from autograder.nbgrader_preprocessors import OverwriteReleasedCells, ShortTracebacks  # noqa: E402

c.Autograde.sanitize_preprocessors = [ClearOutput, DeduplicateIds, OverwriteKernelspec,
                                      OverwriteReleasedCells, CheckCellMetadata]
# Feedback shows the checks' sentences, never hidden tests or the tracebacks that quote them.
c.GenerateFeedback.preprocessors = [GetGrades, ClearHiddenTests, ShortTracebacks, CSSHTMLHeaderPreprocessor]
c.ClearHiddenTests.enforce_metadata = False
