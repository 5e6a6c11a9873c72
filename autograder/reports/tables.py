"""Terminal tables, grades.csv and feedback files for a graded class."""
import csv
import io

from .. import public
from .results import bounded

GROUPS = public.framework.GROUPS
group_scores = public.report.group_scores


# Short column labels for the terminal table; the legend under it names them once.
LABELS = {g: g.removeprefix("batchnorm_") for g in GROUPS}
CELL = 14  # a score cell: 8 characters of score, "/", 5 of maximum


def class_table(results):
    """Scores per part and in total, one row per submission, headers never cut."""
    groups = [g for g in GROUPS if any(g in group_scores(r.outcomes) for r in results)]
    width = max([len(r.name) for r in results] + [10])
    widths = [max(CELL, len(LABELS[g])) for g in groups]
    head = f"{'submission':<{width}}" + "".join(f" {LABELS[g]:>{w}}" for g, w in zip(groups, widths)) + \
        f" {'total':>9}"
    lines = [head, "-" * len(head)]
    for r in results:
        scores = group_scores(r.outcomes)
        cells = "".join(f" {f'{scores[g][0]:>8g}/{scores[g][1]:<5g}':>{w}}" for g, w in zip(groups, widths))
        lines.append(f"{r.name:<{width}}{cells} {r.score:>5g}/{r.max_score:g}")
    renamed = [f"{LABELS[g]} = {g}" for g in groups if LABELS[g] != g]
    if renamed:
        lines.append(f"({'; '.join(renamed)})")
    return "\n".join(lines)


def grades_csv(results, sources=None):
    """One row per submission: its status ("graded", "no modules found", ...), the
    score of every part, the total, and where the submission came from."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["submission", "status", *GROUPS, "total", "max_total", "source"])
    for r, source in zip(results, sources or [""] * len(results)):
        scores = group_scores(r.outcomes)
        writer.writerow([r.name, r.status, *(f"{scores.get(g, (0, 0))[0]:g}" for g in GROUPS), f"{r.score:g}",
                         f"{r.max_score:g}", source])
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
