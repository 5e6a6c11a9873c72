"""Plain-text score tables and Markdown feedback, for students and instructors."""


def group_scores(outcomes):
    """{group: (score, max_score)} in the order the checks ran (the assignment's order of groups)."""
    totals = {}
    for o in outcomes:
        total = totals.setdefault(o.check.group, [0.0, 0.0])
        total[0] += o.score
        total[1] += o.check.points
    return {g: tuple(v) for g, v in totals.items()}


def table(outcomes, title):
    width = max([len(o.check.name) for o in outcomes] + [30])
    lines = [title, f"{'check':<{width}}  {'score':>9}"]
    for o in outcomes:
        mark = "ok  " if o.passed else "FAIL"
        lines.append(f"{o.check.name:<{width}}  {o.score:>4g} / {o.check.points:<3g} {mark}")
    score = sum(o.score for o in outcomes)
    total = sum(o.check.points for o in outcomes)
    lines.append(f"{'total':<{width}}  {score:>4g} / {total:g}")
    return "\n".join(lines)


def feedback(outcomes, heading="Feedback"):
    """Markdown: one section per failed check, with the sentence it produced."""
    failed = [o for o in outcomes if not o.passed]
    if not failed:
        return f"## {heading}\n\nEvery check passed.\n"
    parts = [f"## {heading}\n"]
    for o in failed:
        body = "\n".join("    " + line for line in o.output.splitlines())
        parts.append(f"### {o.check.name} ({o.score:g}/{o.check.points:g})\n\n{body}\n")
    return "\n".join(parts)


def print_group(outcomes, title):
    """What a notebook's grade cell prints: the table, then what to fix."""
    print(table(outcomes, title))
    if any(not o.passed for o in outcomes):
        print()
        print(feedback(outcomes, heading="What to fix"))
