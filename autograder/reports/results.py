"""Gradescope's results.json for one graded submission (SPEC §3)."""
import dataclasses
import json

from ..kit.runner.wire import cut

# A check's feedback is a few sentences plus at most one cut exception message
# (wire.MAX_TEXT) and 1500 characters of printed output: 8000 characters hold it.
MAX_CHECK_OUTPUT = 8000
# All checks' feedback in one file: 47 checks of a failing honest submission write
# under 30 000 characters; a file stays well under 1 MB.
MAX_OUTPUTS = 200_000


def bounded(outcomes, total=MAX_OUTPUTS):
    """The outcomes with their feedback cut to MAX_CHECK_OUTPUT characters each and
    ``total`` in all, a last safety net behind the bounds on what crosses the wire."""
    left, kept = total, []
    for o in outcomes:
        output = cut(o.output, max(0, min(MAX_CHECK_OUTPUT, left)))
        left -= len(output)
        kept.append(dataclasses.replace(o, output=output))
    return kept


def results_dict(result, hidden_visibility=None):
    """The result as Gradescope reads it. ``hidden_visibility`` overrides the
    visibility of the hidden checks (e.g. "after_due_date")."""
    tests = []
    for o in bounded(result.outcomes):
        visibility = hidden_visibility if hidden_visibility and o.check.hidden else o.check.visibility
        tests.append({"name": o.check.name, "score": o.score, "max_score": float(o.check.points),
                      "status": "passed" if o.passed else "failed", "output": o.output,
                      "visibility": visibility, "tags": list(o.check.tags)})
    # What the student reads first; how the sandbox confined their code is in the
    # instructor's log and summary.json.
    graded = (f"{result.score:g} of {result.max_score:g} points from {len(result.outcomes)} checks of your modules. "
              "Each test below says what it tried and, when it failed, what came back and why.")
    output = " ".join(filter(None, [result.notice, graded]))
    return {"score": result.score, "execution_time": result.execution_time, "output": output,
            "tests": tests}


def results_json(result, hidden_visibility=None):
    return json.dumps(results_dict(result, hidden_visibility), indent=2) + "\n"
