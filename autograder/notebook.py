"""nbgrader's module grade cells: one per check group, graded outside the student's kernel.

The grade cell of a group has the nbgrader id ``grade-<group>`` (dashes for
underscores) and is worth the group's points. When the student runs it, it runs the
public checks. At ``nbgrader autograde`` the kernel skips it: ``GradeModuleCells``
(``nbgrader_preprocessors.py``) grades the submitted modules as the command line does,
in nbgrader's own process, and gives the cell the outputs of ``group_outputs``: what
the student reads, and the score nbgrader records as the cell's partial credit.
"""
import contextlib
import io

from nbformat.v4 import new_output

from .kit.report import print_group


def grade_cells(graded):
    """{grade cell id: group} of an assignment's module grade cells."""
    return {f"grade-{group.replace('_', '-')}": group for group in graded.spec.groups}


def group_outputs(outcomes, group):
    """A grade cell's outputs for the outcomes of ``group``: the score table and what
    to fix (stdout), then the score, which nbgrader reads from the cell's result."""
    text = io.StringIO()
    with contextlib.redirect_stdout(text):
        print_group(outcomes, f"Grading: {group}")
    score = float(sum(o.score for o in outcomes))
    return [new_output("stream", name="stdout", text=text.getvalue()),
            new_output("execute_result", data={"text/plain": repr(score)})]
