"""Solution and hidden-test regions in source text, as nbgrader marks them.

A region opens with a line holding only ``### BEGIN SOLUTION`` (or
``### BEGIN HIDDEN TESTS``) and closes with the matching ``### END ...`` line.
nbgrader clears these in notebooks but copies ``.py`` files byte for byte, so the
modules go through ``student_version`` here.
"""
import re

STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")
_MARKER = re.compile(r"^(?P<indent>[ \t]*)### (?P<edge>BEGIN|END) (?P<kind>SOLUTION|HIDDEN TESTS)[ \t]*$")


class MarkerError(ValueError):
    """Unbalanced, nested or mismatched region markers; names the file and line."""

    def __init__(self, where, lineno, message):
        super().__init__(f"{where}, line {lineno}: {message}")


def _regions(lines, where):
    """Yield (kind, begin, end, indent) for each region, 0-based line indices."""
    open_kind = open_line = indent = None
    for i, line in enumerate(lines):
        m = _MARKER.match(line)
        if m is None:
            continue
        kind, edge = m["kind"], m["edge"]
        if edge == "BEGIN":
            if open_kind is not None:
                raise MarkerError(where, i + 1, f"'### BEGIN {kind}' inside the {open_kind} region "
                                                f"opened on line {open_line + 1}; regions cannot nest")
            open_kind, open_line, indent = kind, i, m["indent"]
        else:
            if open_kind is None:
                raise MarkerError(where, i + 1, f"'### END {kind}' without a matching '### BEGIN {kind}'")
            if kind != open_kind:
                raise MarkerError(where, i + 1, f"'### END {kind}' closes the {open_kind} region "
                                                f"opened on line {open_line + 1}")
            yield kind, open_line, i, indent
            open_kind = None
    if open_kind is not None:
        raise MarkerError(where, open_line + 1, f"'### BEGIN {open_kind}' is never closed")


def _rewrite(text, where, replace):
    lines = text.split("\n")
    out, pos = [], 0
    for kind, begin, end, indent in list(_regions(lines, where)):
        out.extend(lines[pos:begin])
        out.extend(replace(kind, lines[begin + 1:end], indent))
        pos = end + 1
    out.extend(lines[pos:])
    return "\n".join(out)


def student_version(text, where):
    """Replace each solution region with the stub at the region's indentation and
    drop hidden-test regions."""
    def replace(kind, body, indent):
        return [indent + s for s in STUB] if kind == "SOLUTION" else []
    return _rewrite(text, where, replace)


def solution_version(text, where):
    """Keep each solution's code without its markers and drop hidden-test regions."""
    def replace(kind, body, indent):
        return body if kind == "SOLUTION" else []
    return _rewrite(text, where, replace)


def has_markers(text):
    return any(_MARKER.match(line) for line in text.split("\n"))
