"""Gradescope's results.json for one graded submission (SPEC §3)."""
import json


def results_dict(result, hidden_visibility=None):
    """The result as Gradescope reads it. ``hidden_visibility`` overrides the
    visibility of the hidden checks (e.g. "after_due_date")."""
    tests = []
    for o in result.outcomes:
        visibility = hidden_visibility if hidden_visibility and o.check.hidden else o.check.visibility
        tests.append({"name": o.check.name, "score": o.score, "max_score": float(o.check.points),
                      "status": "passed" if o.passed else "failed", "output": o.output,
                      "visibility": visibility, "tags": list(o.check.tags)})
    protections = result.protections and f"Protections in force while your code ran: {', '.join(result.protections)}."
    output = " ".join(filter(None, [result.notice, protections]))
    return {"score": result.score, "execution_time": result.execution_time, "output": output,
            "tests": tests}


def results_json(result, hidden_visibility=None):
    return json.dumps(results_dict(result, hidden_visibility), indent=2) + "\n"
