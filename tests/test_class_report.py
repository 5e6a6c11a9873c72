"""The class report of the demo class: its numbers, names, misconception counts and
links, checked against the result files grading wrote next to it."""
import base64
import dataclasses
import json
import re
import statistics
from html import unescape

import pytest

from autograder.classroom import grade_class
from autograder.demo import build_demo_class
from autograder.misconceptions import CATALOGUE
from autograder.reports.class_report import class_report_html, misconceptions, pass_rates


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    folders = build_demo_class(tmp_path_factory.mktemp("demo-class"))
    out = tmp_path_factory.mktemp("grades")
    results = grade_class(folders, out=out, jobs=2, progress=False)
    return results, out


@pytest.fixture(scope="module")
def report(graded):
    return (graded[1] / "report.html").read_text()


@pytest.fixture(scope="module")
def written(graded):
    """The Gradescope result files grading wrote: {name: results dict}."""
    results, out = graded
    return {r.name: json.loads((out / f"{r.name}.json").read_text()) for r in results}


def rows(report, heading):
    """The table under ``heading`` as lists of cell texts (links reduced to text)."""
    section = report.split(f"<h2>{heading}</h2>", 1)[1].split("</table>", 1)[0]
    return [[unescape(re.sub(r"<[^>]+>", "", cell)) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row)]
            for row in re.findall(r"<tr>(.*?)</tr>", section) if "<td" in row]


def test_summary_numbers(report, written):
    scores = [r["score"] for r in written.values()]
    summary = unescape(re.search(r'<p class="summary">(.*?)</p>', report).group(1))
    assert summary == (f"16 submissions; score out of 65: mean {statistics.mean(scores):.1f}, "
                       f"median {statistics.median(scores):g}, lowest 0, highest 65; 1 with every check passed.")


def test_submission_table_links_every_feedback_file(report, graded, written):
    results, out = graded
    links = re.findall(r'<a href="([^"]+)">([^<]+)</a>', report)
    assert [name for _, name in links] == [r.name for r in results]
    assert all(href == f"{name}.md" and (out / href).is_file() for href, name in links)
    table = {row[0]: row for row in rows(report, "Submissions")}
    assert table["reference-solution"][-2:] == ["65/65", "0"]
    assert table["untouched-release"][-2:] == ["0/65", str(len(written["untouched-release"]["tests"]))]
    for name, result in written.items():
        failed = sum(t["status"] == "failed" for t in result["tests"])
        assert table[name][-2:] == [f"{result['score']:g}/65", str(failed)]


def test_pass_rate_per_check(report, written):
    table = rows(report, "Pass rate per check")
    names = [t["name"] for t in written["reference-solution"]["tests"]]
    assert [row[0] for row in table] == names
    for check, group, points, passed, rate in table:
        n = sum(t["status"] == "passed" for r in written.values() for t in r["tests"] if t["name"] == check)
        assert passed == f"{n}/16" and rate == f"{100 * n / 16:.0f}%"
    forward = {row[0]: row[3] for row in table}
    # The stubs fail it, and so do the two mistakes that change the normalized values
    # (unbiased variance, eps outside the square root); the others pass.
    assert forward["batchnorm_forward: train-mode output"] == "13/16"


def test_misconceptions_counted_from_the_feedback(report, written):
    table = rows(report, "Most frequent misconceptions")
    assert len(table) == 10  # twelve catalogued mistakes in the demo class, the ten most frequent shown
    sentences = {m.id: m.sentence for m in CATALOGUE}
    for mistake_id, submissions, checks, sentence in table:
        assert sentence == sentences[mistake_id]
        named = [t for t in written[mistake_id]["tests"] if f"Likely misconception: {sentence}" in t["output"]]
        assert (submissions, checks) == ("1", str(len(named)))
        # Only the submission that makes the mistake is told about it.
        assert not [name for name, r in written.items() if name != mistake_id
                    and any(sentence in t["output"] for t in r["tests"])]
    counts = [int(row[2]) for row in table]
    assert counts == sorted(counts, reverse=True) and table[0][0] == "bn-unbiased-variance"


def test_misconceptions_count_submissions_and_checks(graded):
    results, _ = graded
    by_name = {r.name: r for r in results}
    twice = dataclasses.replace(by_name["bn-eps-outside-sqrt"], name="another-eps-outside-sqrt")
    found = misconceptions([*results, twice])
    assert found[0].id == "bn-eps-outside-sqrt" and found[0].submissions == 2
    assert found[0].checks == 2 * misconceptions([by_name["bn-eps-outside-sqrt"]])[0].checks
    assert {m.id for m in found} == {m.id for m in CATALOGUE}
    assert misconceptions([by_name["reference-solution"], by_name["untouched-release"]]) == []
    assert [passed for _, passed, _ in pass_rates([by_name["reference-solution"]])] == [1] * len(results[0].outcomes)


def test_plots_are_embedded_pngs_and_the_page_is_reproducible(report, graded):
    results, _ = graded
    images = re.findall(r'<img src="data:image/png;base64,([^"]+)" alt="([^"]+)">', report)
    assert [alt for _, alt in images] == ["histogram of total scores", "pass rate per check"]
    for data, _ in images:
        png = base64.b64decode(data)
        assert png.startswith(b"\x89PNG\r\n\x1a\n") and b"matplotlib" not in png.lower()
    assert "http" not in report.replace("http-equiv", "")  # nothing to fetch: viewable offline
    assert class_report_html(results) == report


def test_names_are_escaped_and_an_empty_class_reported(graded):
    results, _ = graded
    odd = dataclasses.replace(results[1], name="<b>x&y</b>")
    page = class_report_html([odd])
    assert '<a href="&lt;b&gt;x&amp;y&lt;/b&gt;.md">&lt;b&gt;x&amp;y&lt;/b&gt;</a>' in page
    assert "<b>x" not in page
    assert "No submissions were graded." in class_report_html([])
