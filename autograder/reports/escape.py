"""Text a student controls, made safe for every format it is written in.

Students control the names of their files and folders (row names, notices, sources)
and what their code raised or printed (check outputs). That text is cleaned where it
enters the reports: ``shown`` for a name or any one line, ``plain`` for output of
several lines; both give valid Unicode (a lone surrogate, e.g. an undecodable byte of
a file name, becomes U+FFFD), with no control character (no terminal escape sequence)
and no character that reorders what a reader sees. Then it is escaped for the format
it lands in: ``markdown`` for a sentence in NAME.md or Gradescope's md output,
``code_block`` for output shown verbatim there, ``html`` for report.html and
``csv_cell`` for grades.csv. A sentence of the grader's own goes through the same
functions, so no renderer needs to know which words came from a student.
"""
import html as _html
import re

from ..kit.runner.wire import cut

REPLACEMENT = "\ufffd"
NAME_LIMIT = 100  # characters of a name (a student's, a file's) where it is shown
_SURROGATES = re.compile("[\ud800-\udfff]")
# C0 and C1 controls and DEL (terminal escape sequences start with one), and the
# bidirectional marks, embeddings, overrides and isolates that make text display in
# another order than it is read ("Trojan Source").
_REORDERING = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_ONE_LINE = re.compile(f"[\x00-\x1f\x7f-\x9f\u2028\u2029{_REORDERING}]")
_IN_LINES = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_REORDERING}]")  # tabs and line ends kept
# Markdown: every character that starts inline markup in CommonMark, GitHub's
# extensions or common plugins (emphasis, code, links and images, strikethrough,
# tables, math, marks, superscripts, attributes, mentions and e-mail autolinks).
_MARKUP = re.compile(r"([\\`*_\[\]{}~|$^=@#])")
# Bare links that renderers make without brackets: a scheme ("https://") and any
# dotted name ("www.example.com", "batchnorm.py", an e-mail's host).
_AUTOLINK = re.compile(r":(?=/)|(?<=\w)\.(?=\w)")
# At the start of a line: a list item, and an ordered one (a quote, a heading and a
# setext underline start with characters escaped anywhere).
_BULLET = re.compile(r"^[-+]")
_ORDERED = re.compile(r"^(\d{1,9})([.)])")
# What makes a spreadsheet read a cell as a formula (OWASP's list; a leading tab or
# carriage return, the rest of it, is a control character that ``shown`` replaces).
CSV_FORMULA = ("=", "+", "-", "@")


def shown(text, limit=None):
    """``text`` (a name, a path, a sentence) as one line that is safe to show
    anywhere: valid Unicode, every control or reordering character replaced by
    U+FFFD (a line break too), and at most ``limit`` characters (its end replaced by
    an ellipsis)."""
    text = _ONE_LINE.sub(REPLACEMENT, _SURROGATES.sub(REPLACEMENT, str(text)))
    if limit is not None and len(text) > limit:
        text = text[:limit - 1] + "\u2026"
    return text


def plain(text):
    """Text of several lines (what a check says, with what student code raised)
    kept as lines: valid Unicode, every line ending a newline, tabs kept, every
    other control or reordering character replaced by U+FFFD."""
    text = "\n".join(_SURROGATES.sub(REPLACEMENT, str(text)).splitlines())
    return _IN_LINES.sub(REPLACEMENT, text)


def markdown(text):
    """``text`` as Markdown that renders as exactly that text, on one line: no
    emphasis, link, image, raw HTML, entity, table, heading, list or autolink can
    come out of it, whatever the renderer's usual extensions."""
    text = _html.escape(shown(text).strip(), quote=False)
    text = _AUTOLINK.sub(r"\\\g<0>", _MARKUP.sub(r"\\\1", text))
    return _BULLET.sub(r"\\\g<0>", _ORDERED.sub(r"\1\\\2", text))


def code_block(text, limit=None):
    """``text`` shown verbatim in Markdown: an indented code block, every line four
    spaces in. Nothing inside one is read as Markdown or HTML, and only a line that is
    not indented ends it, so no line of ``text`` can. With ``limit``, the block is cut
    to at most that many characters, with a note of how much was left out."""
    text = plain(text)
    block = _indented(text)
    if limit is not None and len(block) > limit:
        # Every character cut from the text shortens the block by one at least; the
        # note's own line costs its indentation.
        block = _indented(cut(text, max(0, len(text) - (len(block) - limit) - 4)))
    return block


def _indented(text):
    return "\n".join("    " + line if line else "" for line in text.split("\n"))


def html(text):
    """``text`` for an HTML page, in an element or an attribute: markup characters
    and quotes escaped, and cleaned as ``plain`` does."""
    return _html.escape(plain(text), quote=True)


def csv_cell(text):
    """``text`` for a cell of a CSV file that people open in a spreadsheet: one
    line, and a leading ``'`` when it would otherwise be read as a formula (a cell
    that starts with = + - or @)."""
    text = shown(text)
    return "'" + text if text.lstrip().startswith(CSV_FORMULA) else text
