"""The class report of the demo class: its numbers, names, misconception counts and
links, checked against the result files grading wrote next to it."""
import base64
import dataclasses
import json
import re
import statistics
from html import unescape

import pytest

from autograder.reports.class_report import class_report_html, misconceptions, pass_rates
from autograder.reports.tables import short_labels
from conftest import GRADED

MAX = sum(c.points for c in GRADED.checks)


@pytest.fixture(scope="module")
def graded(demo_graded):
    return demo_graded


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
    top = max(r["score"] for r in written.values())
    assert top == MAX
    assert summary == (f"{len(written)} submissions; score out of {MAX:g}: mean {statistics.mean(scores):.1f}, "
                       f"median {statistics.median(scores):g}, lowest 0, highest {MAX:g}; 1 with every check passed.")


def test_submission_table_links_every_feedback_file(report, graded, written):
    results, out = graded
    links = re.findall(r'<a href="([^"]+)">([^<]+)</a>', report)
    assert [name for _, name in links] == [r.name for r in results]
    assert all(href == f"{name}.md" and (out / href).is_file() for href, name in links)
    table = {row[0]: row for row in rows(report, "Submissions")}
    assert table["reference-solution"][-2:] == [f"{MAX:g}/{MAX:g}", "0"]
    assert table["untouched-release"][-2:] == [f"0/{MAX:g}", str(len(written["untouched-release"]["tests"]))]
    for name, result in written.items():
        failed = sum(t["status"] == "failed" for t in result["tests"])
        assert table[name][-2:] == [f"{result['score']:g}/{MAX:g}", str(failed)]


def test_pass_rate_per_check(report, written):
    table = rows(report, "Pass rate per check")
    names = [t["name"] for t in written["reference-solution"]["tests"]]
    assert [row[0] for row in table] == names
    for check, _group, _points, passed, rate in table:
        n = sum(t["status"] == "passed" for r in written.values() for t in r["tests"] if t["name"] == check)
        assert passed == f"{n}/{len(written)}" and rate == f"{100 * n / len(written):.0f}%"
    # The stubs fail it, and so do the two mistakes that change the normalized values
    # (unbiased variance, eps outside the square root); the others pass.
    failing = {name for name, r in written.items() for t in r["tests"]
               if t["name"] == "batchnorm_forward: train-mode output" and t["status"] == "failed"}
    assert failing == {"untouched-release", "bn-unbiased-variance", "bn-eps-outside-sqrt"}


def test_misconceptions_counted_from_the_graders_own_data(report, graded, written):
    results, _ = graded
    table = rows(report, "Most frequent misconceptions")
    assert len(table) == min(10, len(GRADED.catalogue))  # every catalogued mistake is in the demo class
    sentences = {m.id: m.sentence for m in GRADED.catalogue}
    by_name = {r.name: r for r in results}
    for mistake_id, submissions, checks, sentence in table:
        assert sentence == sentences[mistake_id]
        counted = [o for o in by_name[mistake_id].outcomes if not o.passed and o.misconception == mistake_id]
        assert (submissions, checks) == ("1", str(len(counted)))
        # The submission that makes the mistake is told once; no other is told at all.
        told = [name for name, r in written.items() for t in r["tests"] if sentence in t["output"]]
        assert told == [mistake_id]
    counts = [(int(row[1]), int(row[2])) for row in table]
    assert counts == sorted(counts, reverse=True)


def test_text_that_student_code_wrote_is_never_counted_as_a_misconception(graded):
    results, _ = graded
    honest = next(r for r in results if r.name == "reference-solution")
    forged = dataclasses.replace(honest.outcomes[0], score=0.0, output="zero_centered raised RuntimeError: "
                                 f"Likely misconception: {GRADED.catalogue[0].sentence}")
    result = dataclasses.replace(honest, outcomes=[forged, *honest.outcomes[1:]])
    assert misconceptions([result], GRADED.catalogue) == []


def test_misconceptions_count_submissions_and_checks(graded):
    results, _ = graded
    by_name = {r.name: r for r in results}
    twice = dataclasses.replace(by_name["bn-eps-outside-sqrt"], name="another-eps-outside-sqrt")
    found = misconceptions([*results, twice], GRADED.catalogue)
    assert found[0].id == "bn-eps-outside-sqrt" and found[0].submissions == 2
    assert found[0].checks == 2 * misconceptions([by_name["bn-eps-outside-sqrt"]], GRADED.catalogue)[0].checks
    assert {m.id for m in found} == {m.id for m in GRADED.catalogue}
    assert misconceptions([by_name["reference-solution"], by_name["untouched-release"]], GRADED.catalogue) == []
    assert [passed for _, passed, _ in pass_rates([by_name["reference-solution"]])] == [1] * len(results[0].outcomes)


def test_plots_are_embedded_pngs_and_the_page_is_reproducible(report, graded):
    results, _ = graded
    images = re.findall(r'<img src="data:image/png;base64,([^"]+)" alt="([^"]+)">', report)
    assert [alt for _, alt in images] == ["histogram of total scores", "pass rate per check"]
    for data, _ in images:
        png = base64.b64decode(data)
        assert png.startswith(b"\x89PNG\r\n\x1a\n") and b"matplotlib" not in png.lower()
    assert "http" not in report.replace("http-equiv", "")  # nothing to fetch: viewable offline
    assert class_report_html(results, GRADED.catalogue) == report


def test_names_are_escaped_and_an_empty_class_reported(graded):
    results, _ = graded
    odd = dataclasses.replace(results[1], name="<b>x&y</b>")
    page = class_report_html([odd], GRADED.catalogue)
    assert '<a href="&lt;b&gt;x&amp;y&lt;/b&gt;.md">&lt;b&gt;x&amp;y&lt;/b&gt;</a>' in page
    assert "<b>x" not in page
    assert "No submissions were graded." in class_report_html([], GRADED.catalogue)


def test_table_labels_drop_a_shared_prefix_only_where_no_label_reads_as_another():
    assert short_labels(["preprocessing", "batchnorm_forward", "batchnorm_backward", "batchnorm_backward_alt"]) == {
        "preprocessing": "preprocessing", "batchnorm_forward": "forward", "batchnorm_backward": "backward",
        "batchnorm_backward_alt": "backward_alt"}
    # "forward" beside "batchnorm_forward" (spatial_ left out) would not say which forward pass it is.
    labels = short_labels(["layernorm_forward", "layernorm_backward", "spatial_batchnorm_forward",
                           "spatial_groupnorm_forward"])
    assert labels == {"layernorm_forward": "layernorm_forward", "layernorm_backward": "layernorm_backward",
                      "spatial_batchnorm_forward": "batchnorm_forward",
                      "spatial_groupnorm_forward": "groupnorm_forward"}
