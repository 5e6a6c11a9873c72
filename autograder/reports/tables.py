"""Terminal tables, grades.csv and feedback files for a graded class."""
import csv
import io

from .. import public
from .results import bounded

GROUPS = public.framework.GROUPS
group_scores = public.report.group_scores


def class_table(results):
    groups = [g for g in GROUPS if any(g in group_scores(r.outcomes) for r in results)]
    width = max([len(r.name) for r in results] + [10])
    head = f"{'submission':<{width}}" + "".join(f" {g[:14]:>14}" for g in groups) + f" {'total':>9}"
    lines = [head, "-" * len(head)]
    for r in results:
        scores = group_scores(r.outcomes)
        cells = "".join(f" {scores[g][0]:>8g}/{scores[g][1]:<5g}" for g in groups)
        lines.append(f"{r.name:<{width}}{cells} {r.score:>5g}/{r.max_score:g}")
    return "\n".join(lines)


def grades_csv(results):
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["submission", *GROUPS, "total", "max_total"])
    for r in results:
        scores = group_scores(r.outcomes)
        writer.writerow([r.name, *(f"{scores.get(g, (0, 0))[0]:g}" for g in GROUPS), f"{r.score:g}",
                         f"{r.max_score:g}"])
    return buffer.getvalue()


def feedback_markdown(result):
    """The feedback a student reads: scores per group, then what to fix. It holds
    the checks' sentences only, never hidden inputs' source or the reference."""
    lines = [f"# Feedback for {result.name}", "", f"**Score: {result.score:g} / {result.max_score:g}**", ""]
    if result.notice:
        lines += [result.notice, ""]
    lines += ["| part | score |", "|---|---|"]
    for group, (score, total) in group_scores(result.outcomes).items():
        lines.append(f"| {group} | {score:g} / {total:g} |")
    lines.append("")
    lines.append(public.report.feedback(bounded(result.outcomes), heading="What to fix"))
    return "\n".join(lines)
