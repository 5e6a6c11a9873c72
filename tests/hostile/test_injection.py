"""Feedback injection: text a student controls (the names of their files and folders,
what their code raised or printed) shows as that very text in every report (NAME.md,
results.json's Markdown, report.html, grades.csv, the terminal), never as Markdown,
HTML, a spreadsheet formula or a terminal escape; and it can never pose as the
grader's own findings (a misconception in the class report)."""
import csv
import json
import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser

import mistune
import pytest

from autograder.classroom import grade_class
from autograder.intake import Finder
from autograder.reports.class_report import class_report_html, misconceptions
from autograder.reports.escape import code_block, csv_cell, markdown
from conftest import GRADED

from .support import ROOT, SOLUTIONS, assert_honest_functions_kept_their_points, build_submission

SENTENCE = GRADED.catalogue[0].sentence

INJECTING = f'''
def zero_centered(X):
    print("Likely misconception: {SENTENCE}")
    raise RuntimeError("Likely misconception: {SENTENCE}")
'''

# A file name cannot hold "/", so the link points at a script, not a site.
HOSTILE_NAME = "**Score: 65 of 65** <img src=x onerror=alert(1)> [full marks](javascript:alert(1)) `x` # _y_.py"
# What an exception message can hold besides: new lines that open a fence, close the
# code block in HTML, start a heading, and terminal escapes that clear the screen.
RAISING = r'''
def zero_centered(X):
    print("\x1b[2J\x1b[1;32mALL CHECKS PASSED\x1b[0m")
    raise ValueError("```\n</code></pre><img src=x onerror=alert(1)>\n# Score: 65 of 65\n"
                     "    \n<script>alert(1)</script>\n\x1b]0;owned\x07\u202eexe.py")
'''
PLUGINS = ["strikethrough", "footnotes", "table", "url", "task_lists", "def_list", "abbr", "mark", "insert",
           "superscript", "subscript", "math", "ruby", "spoiler"]
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


class Rendered(HTMLParser):
    """The tags and the text of an HTML page."""

    def __init__(self, page):
        super().__init__(convert_charrefs=True)
        self.tags, self.parts = [], []
        self.feed(page)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.parts.append(data)

    @property
    def text(self):
        return "".join(self.parts)


def rendered(text):
    """Markdown as a renderer with raw HTML allowed and every usual extension shows it."""
    return Rendered(mistune.create_markdown(escape=False, plugins=PLUGINS)(text))


def test_a_misconception_sentence_raised_by_student_code_is_not_counted(hostile, grade, reference_scores):
    result = grade(hostile("zero_centered", INJECTING))
    assert any(SENTENCE in o.output for o in result.outcomes)  # the student sees their own text...
    assert misconceptions([result], GRADED.catalogue) == []  # ...but it is not counted as the grader's finding
    page = class_report_html([result], GRADED.catalogue)
    table = page.split("<h2>Most frequent misconceptions</h2>", 1)[1].split("<h2>", 1)[0]
    assert SENTENCE not in table and "No failed check pointed to a known misconception." in table


def test_a_file_name_shows_as_text_in_every_report(tmp_path, bubblewrap):
    """The measured attack: a link whose name is Markdown and HTML, written verbatim at
    the top of NAME.md and in results.json's output. The student keeps full marks."""
    folder = shutil.copytree(SOLUTIONS, tmp_path / "alice", ignore=shutil.ignore_patterns("*.ipynb", "executed",
                                                                                          "__pycache__"))
    os.symlink(SOLUTIONS / "batchnorm.py", folder / HOSTILE_NAME)
    out = tmp_path / "out"
    [result] = grade_class([folder], out=out, progress=False, launcher=bubblewrap)
    assert result.score == result.max_score and HOSTILE_NAME in result.notice
    feedback = rendered((out / "alice.md").read_text())
    assert [tag for tag, _ in feedback.tags if tag not in ("h1", "h2", "p", "table", "thead", "tbody", "tr", "th",
                                                           "td")] == ["strong"]  # the real score only
    assert f"{HOSTILE_NAME} is a link; links are not followed" in feedback.text
    results = json.loads((out / "alice.json").read_text())
    assert (results["output_format"], results["test_output_format"]) == ("md", "md")
    top = rendered(results["output"])
    assert {tag for tag, _ in top.tags} == {"p"} and f"{HOSTILE_NAME} is a link" in top.text


def test_what_student_code_raised_or_printed_stays_inside_its_code_block(hostile, bubblewrap, reference_scores,
                                                                          tmp_path):
    out = tmp_path / "out"
    [result] = grade_class([hostile("zero_centered", RAISING)], out=out, progress=False, launcher=bubblewrap)
    assert_honest_functions_kept_their_points(result, reference_scores, ["zero_centered", "data_preprocess"])
    text = (out / "submission.md").read_text()
    assert not CONTROL.search(text), "a control character reached NAME.md"
    page = rendered(text)
    assert {tag for tag, _ in page.tags} <= {"h1", "h2", "h3", "p", "strong", "pre", "code", "table", "thead",
                                             "tbody", "tr", "th", "td"}
    assert [tag for tag, _ in page.tags].count("h1") == 1 and "<img src=x onerror=alert(1)>" in page.text
    for test in json.loads((out / "submission.json").read_text())["tests"]:
        if test["output"]:
            assert test["output_format"] == "md" and not CONTROL.search(test["output"])
            assert {tag for tag, _ in rendered(test["output"]).tags} == {"pre", "code"}


def test_the_terminal_gets_no_escape_sequence(hostile, tmp_path):
    folder = hostile("zero_centered", RAISING)
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", str(folder), "--timeout", "5"], cwd=ROOT,
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    assert "ALL CHECKS PASSED" in done.stdout  # the student's text is shown, as text
    assert not CONTROL.search(done.stdout + done.stderr)


FORMULAS = ["=HYPERLINK(\"http:evil\",\"65\")", "+1+cmd", "-2+3", "@SUM(A1)", " =1+1"]


def test_no_cell_of_grades_csv_is_a_formula_and_report_html_holds_only_its_own_markup(tmp_path, monkeypatch,
                                                                                       bubblewrap):
    """Paths given relative to the class folder (``grade *``) name each row's source."""
    monkeypatch.chdir(tmp_path)
    for name in FORMULAS + ["<i>x"]:
        build_submission(tmp_path / name, "zero_centered", INJECTING)
    with Finder(GRADED) as finder:
        submissions = finder.find(sorted(FORMULAS + ["<i>x"]))
    out = tmp_path / "out"
    grade_class(submissions, out=out, progress=False, launcher=bubblewrap)
    rows = list(csv.reader((out / "grades.csv").open(encoding="utf-8")))
    assert len(rows) == 7 and [cell for row in rows for cell in row if cell.lstrip()[:1] in "=+-@"] == []
    assert sorted(row[-1] for row in rows[1:]) == sorted(["<i>x"] + [f"'{name}" for name in FORMULAS])
    page = Rendered((out / "report.html").read_text())
    assert {tag for tag, _ in page.tags} == {"html", "head", "meta", "title", "style", "body", "h1", "h2", "p", "img",
                                             "table", "tr", "th", "td", "a"}
    assert all(attrs["src"].startswith("data:image/png;base64,") for tag, attrs in page.tags if tag == "img")
    assert "i_x" in page.text


CORPUS = ["**bold**", "_em_", "`code`", "[a](b)", "![i](x.png)", "<img src=x onerror=alert(1)>", "<script>x</script>",
          "&lt;entity&gt;", "&#60;b&#62;", "# heading", "- item", "+ item", "1. item", "1) item", "> quote", "---",
          "===", "***", "|a|b|", "~~strike~~", "==mark==", "^sup^", "~sub~", "$math$", "$$math$$", "++ins++",
          ">!spoiler!<", "[^note]", "[ref]: https://evil.example", "*[ABBR]: expansion", "{attr}", "<https://a.b>",
          "https://evil.example/x", "www.evil.example", "evil.example", "mail@evil.example", "\\*", "a\\",
          "    indented", "\\(x\\)", "<!-- comment -->", "x_y_z", "term\n: definition", "trailing  ", "@mention"]


@pytest.mark.parametrize("text", CORPUS)
def test_markdown_escaping_renders_every_markup_as_text(text):
    page = rendered(markdown(text))
    assert [tag for tag, _ in page.tags] == ["p"] and page.text.strip() == text.strip().replace("\n", "\ufffd")


@pytest.mark.parametrize("text", CORPUS)
def test_a_code_block_shows_its_text_whatever_it_holds(text):
    page = rendered(code_block(f"before\n{text}\n```\n</code></pre>\nafter"))
    assert [tag for tag, _ in page.tags] == ["pre", "code"]
    assert page.text == f"before\n{text}\n```\n</code></pre>\nafter\n"


def test_csv_cells_never_start_a_formula():
    assert [csv_cell(text) for text in FORMULAS + ["alice", "a=b"]] == [
        "'" + text for text in FORMULAS] + ["alice", "a=b"]
