"""Terminal tables, grades.csv and feedback files for a graded class. Row names are
file-safe (classroom.unique_names); every other text is escaped for its format."""
import csv
import io

from ..kit.report import feedback, group_scores
from .escape import csv_cell, markdown
from .results import bounded

CELL = 14  # a score cell: 8 characters of score, "/", 5 of maximum


def groups_of(results):
    """The groups (parts) the results were graded in, in the order of their checks."""
    return list(dict.fromkeys(o.check.group for r in results for o in r.outcomes))


def short_labels(groups):
    """Column labels for the terminal table: a prefix that several groups share
    (``batchnorm_forward``, ``batchnorm_backward``) is left out where the labels stay
    unique and none reads as the end of another (``forward`` beside
    ``batchnorm_forward`` would); the legend under the table names them once."""
    labels = {}
    for g in groups:
        head, _, rest = g.partition("_")
        shared = rest and sum(other.startswith(head + "_") for other in groups) > 1
        labels[g] = rest if shared else g
    # A prefix is kept for all of its groups as soon as one of their labels is ambiguous.
    while heads := {g.partition("_")[0] for g in groups if labels[g] != g and any(
            other != g and (labels[other] == labels[g] or labels[other].endswith("_" + labels[g]))
            for other in groups)}:
        labels.update({g: g for g in groups if g.partition("_")[0] in heads})
    return labels


def class_table(results):
    """Scores per part and in total, one row per submission, headers never cut."""
    groups = groups_of(results)
    labels = short_labels(groups)
    width = max([len(r.name) for r in results] + [10])
    widths = [max(CELL, len(labels[g])) for g in groups]
    head = f"{'submission':<{width}}" + "".join(f" {labels[g]:>{w}}" for g, w in zip(groups, widths)) + \
        f" {'total':>9}"
    lines = [head, "-" * len(head)]
    for r in results:
        scores = group_scores(r.outcomes)
        cells = "".join(f" {f'{scores[g][0]:>8g}/{scores[g][1]:<5g}':>{w}}" for g, w in zip(groups, widths))
        lines.append(f"{r.name:<{width}}{cells} {r.score:>5g}/{r.max_score:g}")
    renamed = [f"{labels[g]} = {g}" for g in groups if labels[g] != g]
    if renamed:
        lines.append(f"({'; '.join(renamed)})")
    return "\n".join(lines)


def grades_csv(results, sources=None):
    """One row per submission: its status ("graded", "no modules found", "zip
    refused: why", ...), the score of every part, the total, and where the
    submission came from; no cell a spreadsheet would read as a formula."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    groups = groups_of(results)
    writer.writerow(["submission", "status", *groups, "total", "max_total", "source"])
    for r, source in zip(results, sources or [""] * len(results)):
        scores = group_scores(r.outcomes)
        writer.writerow([csv_cell(r.name), csv_cell(r.status), *(f"{scores.get(g, (0, 0))[0]:g}" for g in groups),
                         f"{r.score:g}", f"{r.max_score:g}", csv_cell(source)])
    return buffer.getvalue()


def feedback_markdown(result):
    """The feedback a student reads: scores per group, then what to fix. It holds
    the checks' sentences only, never hidden inputs' source or the reference. Text a
    student controls renders as text: the name and the notice are escaped, and every
    output is plain text in a code block."""
    lines = [f"# Feedback for {markdown(result.name)}", "", f"**Score: {result.score:g} / {result.max_score:g}**", ""]
    if result.notice:
        lines += [markdown(result.notice), ""]
    lines += ["| part | score |", "|---|---|"]
    for group, (score, total) in group_scores(result.outcomes).items():
        lines.append(f"| {group} | {score:g} / {total:g} |")
    lines.append("")
    lines.append(feedback(bounded(result.outcomes), heading="What to fix"))
    return "\n".join(lines)
