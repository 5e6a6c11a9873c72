"""PrairieLearn's results.json (its external-grading contract) for one submission.

A graded submission's ``score`` is the module score as a fraction of its maximum,
the command line's score divided by its total; each check is a test with ``name``,
``points``, ``max_points``, and its feedback in ``message``. PrairieLearn shows a
student everything in the file and cannot show anything later, so a hidden check's
feedback is left out unless the visibility is ``visible``: with ``hidden`` the hidden
checks are one line of points, otherwise each shows its name and points only. A
submission that cannot be graded (a module missing) is ``gradable: false``, which
costs the student no attempt. The file stays under PrairieLearn's 1 MB cap. Control
characters (terminal escapes, which PrairieLearn would render as colours) are replaced,
as in every report (``reports/escape.plain``).
"""
import json

from ..kit.report import group_scores
from ..reports.escape import plain
from ..reports.results import MAX_OUTPUTS, bounded

MAX_BYTES = 1_000_000  # PrairieLearn's cap on results.json
HIDDEN = "The feedback of hidden checks is not shown; their points count in your score."

def results_dict(result, hidden_visibility=None, total=MAX_OUTPUTS):
    """The graded ``result`` as PrairieLearn reads it, its checks' feedback cut to
    ``total`` characters in all."""
    shown = hidden_visibility in (None, "visible")
    tests, withheld = [], []
    for o in bounded(result.outcomes, total=total):
        test = {"name": o.check.name, "points": o.score, "max_points": float(o.check.points)}
        if shown or not o.check.hidden:
            tests.append({**test, "description": f"{o.check.group}: {', '.join(o.check.tags)}",
                          "message": o.output})
        elif hidden_visibility == "hidden":
            withheld.append(o)
        else:
            tests.append({**test, "message": HIDDEN})
    if withheld:
        tests.append({"name": f"{len(withheld)} hidden checks", "points": sum(o.score for o in withheld),
                      "max_points": float(sum(o.check.points for o in withheld)), "message": HIDDEN})
    graded = f"{result.score:g} of {result.max_score:g} points from {len(result.outcomes)} checks of your modules."
    parts = "\n".join(f"{group}: {score:g} / {points:g}" for group, (score, points)
                      in group_scores(result.outcomes).items())
    return {"gradable": True, "score": result.score / result.max_score if result.max_score else 0.0,
            "message": plain(" ".join(filter(None, [result.notice, graded]))),
            "output": f"Points per part:\n{parts}", "tests": tests}


def results_json(result, hidden_visibility=None):
    """results.json's text, within MAX_BYTES: when the feedback is too long once
    escaped for JSON, each check keeps a shorter part of it."""
    total = MAX_OUTPUTS
    while True:
        text = json.dumps(results_dict(result, hidden_visibility, total), indent=2) + "\n"
        if len(text) <= MAX_BYTES or total == 0:  # ASCII: json.dumps escapes the rest
            return text
        total //= 2


def not_gradable(problems):
    """results.json's text for a submission that was not graded: ``problems`` are
    the sentences that say why, shown as PrairieLearn's format errors."""
    message = "Nothing was graded, and this submission does not count as an attempt. " + " ".join(problems)
    return json.dumps({"gradable": False, "score": 0.0, "message": message, "format_errors": list(problems)},
                      indent=2) + "\n"
