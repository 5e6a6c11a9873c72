"""nbgrader configuration for this course: every assignment in assignment/.

Run nbgrader from this folder. Paths are computed from this file so that nbgrader
never creates a stray gradebook elsewhere.
"""
import os
from pathlib import Path

from autograder import assignments, nbgrader_kernel

c = get_config()  # noqa: F821 (provided by nbgrader)

# nbgrader runs one notebook at a time and the notebooks' matrices are small: one BLAS
# thread per kernel is faster than several spinning for the same cores (about 1 s per student).
for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")

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
# nbgrader opens no link, FIFO or device of a submission: it neither copies one nor
# reads a notebook through one (autograder/nbgrader_screening.py).
c.Autograde.exporter_class = "autograder.nbgrader_screening.ScreenedExporter"
# A grade cell a student deleted is put back and graded, never silently scored 0.
c.OverwriteCells.add_missing_cells = True

# nbgrader copies .py files verbatim; this hook replaces their solutions with stubs,
# pins the requirements students install and vendors the self-check.
c.GenerateAssignment.post_convert_hook = "builder.nbgrader_hook.finish_release"

# Autograde: honest submissions raise no checksum warning, so a real one stands out.
from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor  # noqa: E402
from nbgrader.preprocessors import (  # noqa: E402
    AssignLatePenalties,
    CheckCellMetadata,
    ClearHiddenTests,
    ClearOutput,
    DeduplicateIds,
    Execute,
    GetGrades,
    IgnorePattern,
    LimitOutput,
    OverwriteKernelspec,
    SaveAutoGrades,
)

from autograder.nbgrader_preprocessors import (  # noqa: E402
    GradeModuleCells,
    InertOutputs,
    OverwriteReleasedCells,
    ShortTracebacks,
    SkipModuleCells,
    StartModuleGrading,
    WrapLongLines,
)

c.Autograde.sanitize_preprocessors = [ClearOutput, DeduplicateIds, OverwriteKernelspec, OverwriteReleasedCells,
                                      CheckCellMetadata, SkipModuleCells, StartModuleGrading]
# nbgrader's own list, with what student code displayed made inert, and the module grade
# cells' outputs replaced by the grader's (graded here, outside the student's kernel)
# before the scores are saved.
c.Autograde.autograde_preprocessors = [Execute, InertOutputs, IgnorePattern, ClearMetadataPreprocessor,
                                       LimitOutput, GradeModuleCells, SaveAutoGrades, AssignLatePenalties,
                                       CheckCellMetadata]
# Every output is in once the last cell ran; waiting for the kernel to exit costs about 0.3 s a notebook.
c.Execute.shutdown_kernel = "immediate"
# Every notebook's kernel (autograde and validate) runs in a sandbox of its own: its own
# uid, no network, limits, and nothing of the course but a copy of the student's folder
# (autograder/nbgrader_kernel.py, docs/sandbox.md). The notebooks' switches reach it.
nbgrader_kernel.register()
c.Execute.kernel_name = nbgrader_kernel.KERNEL_NAME
c.ConfinedProvisioner.environment.extend(["BATCHNORM_FULL_EXPERIMENTS", "BATCHNORM_SMOKE"])
# Feedback shows the checks' sentences, never hidden tests or the tracebacks that quote them,
# and wraps long lines.
c.GenerateFeedback.preprocessors = [GetGrades, ClearHiddenTests, ShortTracebacks, CSSHTMLHeaderPreprocessor,
                                    WrapLongLines]
c.ClearHiddenTests.enforce_metadata = False
