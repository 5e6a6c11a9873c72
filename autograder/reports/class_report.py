"""The class report: one self-contained HTML page about a graded class.

Score distribution, pass rate per check, the most frequent misconceptions (the
known mistakes the checks recognised) and a table of
submissions linking to their feedback files. Plots are PNGs embedded in the page,
so it opens offline; the page is byte-identical for the same results.
"""
import base64
import io
import statistics
from collections import Counter
from dataclasses import dataclass

from .escape import html as escape
from .tables import group_scores, groups_of

TOP_MISCONCEPTIONS = 10
STYLE = """
body { font-family: sans-serif; max-width: 72em; margin: 2em auto; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; font-size: 90%; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f0f0f0; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
img { max-width: 100%; }
.summary { font-size: 110%; }
"""
COLOURS = ("#4c72b0", "#55a868", "#c44e52", "#8172b2", "#ccb974", "#64b5cd", "#8c8c8c")


@dataclass(frozen=True)
class Misconception:
    sentence: str
    id: str  # the catalogue's id
    submissions: int  # how many submissions show it
    checks: int  # how many failed checks named it, over the class


def misconceptions(results, catalogue):
    """The known mistakes the grader recognised, most frequent first: counted from
    the outcomes' structured ``misconception`` ids, never from text that student
    code could have produced."""
    sentences = {m.id: m.sentence for m in catalogue}
    per_submission, per_check = Counter(), Counter()
    for result in results:
        named = [o.misconception for o in result.outcomes if not o.passed and o.misconception in sentences]
        per_check.update(named)
        per_submission.update(set(named))
    found = [Misconception(sentences[i], i, per_submission[i], per_check[i]) for i in per_submission]
    return sorted(found, key=lambda m: (-m.submissions, -m.checks, m.id))


def pass_rates(results):
    """[(check, passed, graded)] in the order the checks ran."""
    checks, passed = {}, Counter()
    for result in results:
        for o in result.outcomes:
            checks.setdefault(o.check.name, o.check)
            passed[o.check.name] += o.passed
    return [(check, passed[name], len(results)) for name, check in checks.items()]


def load_plotting():
    """Import what the plots need (about half a second): a class run calls it in a
    thread of its own while the submissions are graded, so that the report at the
    end does not wait for it."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: F401
    from matplotlib.figure import Figure  # noqa: F401
    from matplotlib.patches import Patch  # noqa: F401


def _png(figure):
    # Agg without pyplot: no global figure state, safe in a grading thread. Dropping
    # the "Software" entry keeps the PNG free of the matplotlib version string.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def score_histogram(results):
    from matplotlib.figure import Figure
    top = max(r.max_score for r in results) or 1
    figure = Figure(figsize=(7, 3), layout="constrained")
    axes = figure.add_subplot()
    axes.hist([r.score for r in results], bins=min(20, int(top)) or 1, range=(0, top), color="#4c72b0",
              edgecolor="white")
    axes.set_xlabel(f"total score (out of {top:g})")
    axes.set_ylabel("submissions")
    axes.yaxis.get_major_locator().set_params(integer=True)
    return _png(figure)


def pass_rate_chart(rates):
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch
    figure = Figure(figsize=(9, 1.2 + 0.22 * len(rates)), layout="constrained")
    axes = figure.add_subplot()
    rows = range(len(rates))[::-1]
    groups = list(dict.fromkeys(check.group for check, _, _ in rates))
    colour = {g: COLOURS[i % len(COLOURS)] for i, g in enumerate(groups)}
    axes.barh(list(rows), [100 * passed / graded for _, passed, graded in rates],
              color=[colour[check.group] for check, _, _ in rates])
    axes.set_yticks(list(rows), [_short(check.name, 60) for check, _, _ in rates], fontsize=7)
    axes.set_xlim(0, 100)
    axes.set_ylim(-0.6, len(rates) - 0.4)
    axes.set_xlabel("submissions passing (%)")
    axes.legend(handles=[Patch(color=colour[g], label=g) for g in groups],
                loc="lower left", bbox_to_anchor=(0, 1), ncols=3, fontsize=8, frameon=False)
    return _png(figure)


def _short(text, width):
    return text if len(text) <= width else text[:width - 1] + "\u2026"


def _img(png, alt):
    return f'<img src="data:image/png;base64,{png}" alt="{escape(alt)}">'


def class_report_html(results, catalogue, title="Class report"):
    """The report as one HTML string; feedback links point to NAME.md next to it."""
    scores = [r.score for r in results]
    top = max((r.max_score for r in results), default=0)
    rates = pass_rates(results)
    found = misconceptions(results, catalogue)
    parts = [f"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{escape(title)}</title>",
             f"<style>{STYLE}</style>\n</head>\n<body>\n<h1>{escape(title)}</h1>"]
    if not results:
        return "\n".join(parts + ["<p>No submissions were graded.</p>", "</body>\n</html>\n"])
    parts.append(f"<p class=\"summary\">{len(results)} submissions; score out of {top:g}: "
                 f"mean {statistics.mean(scores):.1f}, median {statistics.median(scores):g}, "
                 f"lowest {min(scores):g}, highest {max(scores):g}; "
                 f"{sum(r.score == r.max_score for r in results)} with every check passed.</p>")
    parts += ["<h2>Score distribution</h2>", _img(score_histogram(results), "histogram of total scores")]

    parts += ["<h2>Most frequent misconceptions</h2>"]
    if found:
        parts.append("<table>\n<tr><th>misconception</th><th>submissions</th><th>failed checks</th>"
                     "<th>what the feedback says</th></tr>")
        parts += [f"<tr><td>{escape(m.id)}</td><td class=\"n\">{m.submissions}</td>"
                  f"<td class=\"n\">{m.checks}</td><td>{escape(m.sentence)}</td></tr>"
                  for m in found[:TOP_MISCONCEPTIONS]]
        parts.append("</table>")
    else:
        parts.append("<p>No failed check pointed to a known misconception.</p>")

    parts += ["<h2>Pass rate per check</h2>", _img(pass_rate_chart(rates), "pass rate per check"),
              "<table>\n<tr><th>check</th><th>group</th><th>points</th><th>passed</th><th>pass rate</th></tr>"]
    parts += [f"<tr><td>{escape(check.name)}</td><td>{escape(check.group)}</td><td class=\"n\">{check.points:g}</td>"
              f"<td class=\"n\">{passed}/{graded}</td><td class=\"n\">{100 * passed / graded:.0f}%</td></tr>"
              for check, passed, graded in rates]
    parts.append("</table>")

    groups = groups_of(results)
    parts += ["<h2>Submissions</h2>", "<table>\n<tr><th>submission</th>"
              + "".join(f"<th>{escape(g)}</th>" for g in groups) + "<th>total</th><th>failed checks</th></tr>"]
    for r in results:
        by_group = group_scores(r.outcomes)
        cells = "".join(f"<td class=\"n\">{by_group[g][0]:g}/{by_group[g][1]:g}</td>" if g in by_group
                        else "<td></td>" for g in groups)
        parts.append(f"<tr><td><a href=\"{escape(r.name)}.md\">{escape(r.name)}</a></td>{cells}"
                     f"<td class=\"n\">{r.score:g}/{r.max_score:g}</td>"
                     f"<td class=\"n\">{sum(not o.passed for o in r.outcomes)}</td></tr>")
    parts.append("</table>\n</body>\n</html>\n")
    return "\n".join(parts)

