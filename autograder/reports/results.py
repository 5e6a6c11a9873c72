"""Gradescope's results.json for one graded submission (SPEC §3).

Its text is Markdown (Gradescope's ``md`` output format, at the top and for every
test), so that feedback reads as it does in NAME.md: the top-level output is a
sentence, each test's output a code block of what the check said. Whatever part of
it a student controls (a file name in a notice, what their code raised) is escaped
there (``escape``) and renders as the text it is, never as Markdown or HTML.
"""
import dataclasses
import json

from ..kit.runner.wire import cut
from .escape import code_block, markdown, plain

# A check's feedback is a few sentences plus at most one cut exception message
# (wire.MAX_TEXT) and 1500 characters of printed output: 8000 characters hold it.
MAX_CHECK_OUTPUT = 8000
# All checks' feedback in one file: the 67 checks of a failing honest submission write
# under 30 000 characters. Written as UTF-8 JSON (at most 4 bytes a character, since
# no control character is left to escape) a file stays under Gradescope's 1 MB.
MAX_OUTPUTS = 200_000
MARKDOWN = "md"  # Gradescope's output format for Markdown


def bounded(outcomes, render=lambda text, limit: cut(plain(text), limit), total=MAX_OUTPUTS):
    """The outcomes with their feedback made ``plain`` (or rendered by ``render``)
    and cut to MAX_CHECK_OUTPUT characters each and ``total`` in all, a last
    safety net behind the bounds on what crosses the wire."""
    left, kept = total, []
    for o in outcomes:
        output = render(o.output, max(0, min(MAX_CHECK_OUTPUT, left)))
        left -= len(output)
        kept.append(dataclasses.replace(o, output=output))
    return kept


def results_dict(result, hidden_visibility=None):
    """The result as Gradescope reads it. ``hidden_visibility`` overrides the
    visibility of the hidden checks (e.g. "after_due_date")."""
    tests = []
    for o in bounded(result.outcomes, render=code_block):
        visibility = hidden_visibility if hidden_visibility and o.check.hidden else o.check.visibility
        tests.append({"name": o.check.name, "score": o.score, "max_score": float(o.check.points),
                      "status": "passed" if o.passed else "failed", "output": o.output,
                      "output_format": MARKDOWN, "visibility": visibility, "tags": list(o.check.tags)})
    output = "\n\n".join(filter(None, [markdown(result.notice), _scores(result, tests)]))
    return {"score": result.score, "execution_time": result.execution_time, "output": output,
            "output_format": MARKDOWN, "test_output_format": MARKDOWN, "tests": tests}


def _scores(result, tests):
    """What the student reads first: the score of the checks they can see now (the
    others' scores would tell what those show later). How the sandbox confined
    their code is in the instructor's log and summary.json."""
    shown = [(o, t) for o, t in zip(result.outcomes, tests) if t["visibility"] == "visible"]
    score, top = sum(o.score for o, _ in shown), sum(o.check.points for o, _ in shown)
    graded = f"{score:g} of {top:g} points from {len(shown)} checks of your modules."
    if len(shown) < len(tests):
        later = len(tests) - len(shown)
        graded += (f" {later} more checks, worth {result.max_score - top:g} points, are graded too; their results "
                   "are not shown yet.")
    return graded + " Each test below says what it tried and, when it failed, what came back and why."


def results_json(result, hidden_visibility=None):
    return json.dumps(results_dict(result, hidden_visibility), indent=2, ensure_ascii=False) + "\n"
