"""Plain-text score tables and Markdown feedback, for students and instructors.

Both show a function's checks together (checks run in that order). The feedback
explains each cause once, under the function it first shows up in, with the checks
and points it cost; a note about how checks were judged is shown with them too.
"""
from .framework import causes


def _scores(outcomes, of):
    """{of(outcome): (score, max_score)} in the order the checks ran."""
    totals = {}
    for o in outcomes:
        total = totals.setdefault(of(o), [0.0, 0.0])
        total[0] += o.score
        total[1] += o.check.points
    return {k: tuple(v) for k, v in totals.items()}


def group_scores(outcomes):
    """{group: (score, max_score)} in the order the checks ran (the assignment's order of groups)."""
    return _scores(outcomes, lambda o: o.check.group)


def function_scores(outcomes):
    """{function judged: (score, max_score)}, in the order the checks ran."""
    return _scores(outcomes, lambda o: o.check.function)


def table(outcomes, title):
    """One line per check under a line per function with its subtotal, then the total."""
    width = max([len(o.check.name) + 2 for o in outcomes] + [30])
    lines = [title, f"{'check':<{width}}  {'score':>9}"]
    scores = function_scores(outcomes)
    shown = None
    for o in outcomes:
        if o.check.function != shown:
            shown = o.check.function
            lines.append(f"{shown:<{width}}  {scores[shown][0]:>4g} / {scores[shown][1]:g}")
        mark = "ok  " if o.passed else "FAIL"
        lines.append(f"  {o.check.name:<{width - 2}}  {o.score:>4g} / {o.check.points:<3g} {mark}")
    score = sum(o.score for o in outcomes)
    total = sum(o.check.points for o in outcomes)
    lines.append(f"{'total':<{width}}  {score:>4g} / {total:g}")
    return "\n".join(lines)


def check_list(checks, title):
    """The checks with their points, by group and by the function each judges, and
    whether students can run them (public) or not (hidden)."""
    width = max([len(c.name) + 4 for c in checks] + [30])
    lines, shown = [title], (None, None)
    groups, functions = {}, {}
    for c in checks:
        groups[c.group] = groups.get(c.group, 0) + c.points
        functions[c.group, c.function] = functions.get((c.group, c.function), 0) + c.points
    for c in checks:
        if c.group != shown[0]:
            lines.append(f"{c.group:<{width}}  {groups[c.group]:>4g}")
        if (c.group, c.function) != shown and c.function != c.group:
            lines.append(f"  {c.function:<{width - 2}}  {functions[c.group, c.function]:>4g}")
        shown = (c.group, c.function)
        lines.append(f"    {c.name:<{width - 4}}  {c.points:>4g}  {'hidden' if c.hidden else 'public'}")
    lines.append(f"{'total':<{width}}  {sum(groups.values()):>4g}")
    return "\n".join(lines)


def _points(value):
    return f"{value:g} point" + ("" if value == 1 else "s")


def _cost(group, outcomes):
    """What a cause cost: the points, and the checks by function (all of a
    function's checks in a few words)."""
    parts = []
    for function in dict.fromkeys(o.check.function for o in group):
        mine = [o for o in group if o.check.function == function]
        if len(mine) > 1 and len(mine) == sum(o.check.function == function for o in outcomes):
            parts.append(f"all {len(mine)} checks of {function} ({_points(sum(o.check.points for o in mine))})")
        else:
            parts.extend(f"\u201c{o.check.name}\u201d ({o.check.points - o.score:g})" for o in mine)
    if len(parts) == 1 and parts[0].startswith("all "):
        return parts[0]
    return f"{_points(sum(o.check.points - o.score for o in group))}: {', '.join(parts)}"


def _indented(text):
    return "\n".join("    " + line for line in text.splitlines())


def feedback(outcomes, heading="Feedback"):
    """Markdown: a section per function that lost points or carries a note. Each
    cause is explained once, under the function whose check it first showed up in,
    with the checks and points it cost, whichever function they belong to."""
    groups = causes(outcomes)
    failed = [g for g in groups if not g[0].passed]
    parts = [f"## {heading}\n"]
    if not failed:
        parts.append("Every check passed.\n")
    scores = function_scores(outcomes)
    for function, (score, total) in scores.items():
        here = [g for g in groups if g[0].check.function == function]
        elsewhere = {}
        for g in failed:
            if g[0].check.function != function:
                lost = sum(o.check.points - o.score for o in g if o.check.function == function)
                if lost:
                    elsewhere[g[0].check.function] = elsewhere.get(g[0].check.function, 0) + lost
        if not here and not elsewhere:
            continue
        parts.append(f"### {function}: {score:g} / {_points(total)}\n")
        for g in here:
            first = g[0]
            if first.passed:
                passed = {id(o) for o in outcomes if o.check.function == function and o.passed}
                applies = (f"every check of {function} that passed ({len(g)})"
                           if len(g) > 1 and {id(o) for o in g} == passed
                           else ", ".join(f"\u201c{o.check.name}\u201d" for o in g))
                parts.append(f"Note: {first.cause}\nIt applies to {applies}.\n")
            else:
                parts.append(f"{_indented(first.output)}\n\nThis cost {_cost(g, outcomes)}.\n")
        for where, lost in elsewhere.items():
            parts.append(f"{function} lost {_points(lost)} to the cause explained under {where}.\n")
    return "\n".join(parts)


def print_group(outcomes, title):
    """What a notebook's grade cell prints: the table, then what to fix and any note."""
    print(table(outcomes, title))
    if causes(outcomes):
        print()
        print(feedback(outcomes, heading="What to fix"))
