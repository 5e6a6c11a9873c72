"""Feedback a student reads once (issue 18): checks grouped by function in every front
end, a cause shared by several checks explained once with what it cost, notes about
how checks were judged shown wherever the score is, and the checks listed with their
points on the command line."""
import collections
import contextlib
import io
import json
import subprocess
import sys

import pytest

from autograder.grade import grade_submission
from autograder.kit.framework import Check, Outcome, say_each_cause_once
from autograder.kit.report import feedback, print_group, table
from autograder.notebook import group_outputs
from autograder.reports.results import results_dict
from autograder.reports.tables import feedback_markdown
from conftest import GRADED, ROOT

LONG = 30  # a line this long or longer ...
REPEATS = 3  # ... appears at most this often in one feedback file


def repeated_lines(text):
    counts = collections.Counter(line for line in text.splitlines() if len(line) >= LONG)
    return {line: n for line, n in counts.items() if n > REPEATS}


def printed(outcomes, group):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        print_group([o for o in outcomes if o.check.group == group], f"Grading: {group}")
    return out.getvalue()


def test_no_long_line_repeats_in_any_feedback_of_the_demo_class(demo):
    for name, result in demo.items():
        assert repeated_lines(feedback_markdown(result)) == {}, name
        for group in GRADED.spec.groups:
            assert repeated_lines(printed(result.outcomes, group)) == {}, (name, group)


def test_checks_run_and_show_grouped_by_function(demo):
    """A function's checks are contiguous in every result (and so in results.json and
    the tables), and the feedback has one section per function, in the assignment's order."""
    order = list(GRADED.spec.functions)
    for result in demo.values():
        functions = [o.check.function for o in result.outcomes]
        runs = [f for i, f in enumerate(functions) if i == 0 or functions[i - 1] != f]
        assert runs == order
        text = feedback_markdown(result)
        sections = [line.split(":")[0][4:] for line in text.splitlines() if line.startswith("### ")]
        assert sections == sorted(set(sections), key=order.index), result.name


def test_a_shared_cause_is_explained_once_with_the_checks_and_points_it_cost(demo):
    result = demo["syntax-error"]
    text = feedback_markdown(result)
    assert text.count("preprocessing.py has a syntax error on line") == 1
    assert "This cost 10 points: all 3 checks of zero_centered (3 points), all 3 checks of normalized (4 points), " \
           "all 3 checks of data_preprocess (3 points)." in text
    assert "normalized lost 4 points to the cause explained under zero_centered." in text
    assert "Same cause as" not in json.dumps(results_dict(result))


def test_each_gradescope_test_says_briefly_why_it_failed_and_where_the_full_explanation_is(demo):
    """The first test a cause costs explains it in full; the others say what they found
    in a line and name that test (never a test that itself refers to another)."""
    tests = results_dict(demo["bn-unbiased-variance"])["tests"]
    failed = [t for t in tests if t["status"] == "failed"]
    full = [t for t in failed if "Likely misconception: your batch variance is the unbiased one" in t["output"]]
    assert len(full) == 1
    where = f"\u201c{full[0]['name']}\u201d"
    for t in failed:
        assert t is full[0] or (where in t["output"] and "\n" not in t["output"] and len(t["output"]) < 400), t


def test_a_note_about_how_a_check_was_judged_is_shown_wherever_the_score_is(demo):
    result = demo["bn-unbiased-variance"]  # the backward passes are judged against this forward
    note = "was judged against your own forward"
    assert feedback_markdown(result).count(note) == 2  # once for each backward pass
    for group in ("batchnorm_backward", "batchnorm_backward_alt"):
        cell = group_outputs([o for o in result.outcomes if o.check.group == group], group)[0]["text"]
        assert cell.count(note) == 1
    outputs = [t["output"] for t in results_dict(result)["tests"] if "batchnorm_backward" in t["name"]]
    assert sum(note in text for text in outputs) == 2 and all(text.lstrip().startswith("Passed") for text in outputs)


def outcome(function, name, points, score, output, cause="", misconception=""):
    check = Check(name, function, points, (function,), None, judges=function)
    return Outcome(check, score, output, cause=cause, misconception=misconception)


def test_a_cause_that_costs_several_functions_is_explained_under_the_first():
    outcomes = say_each_cause_once([
        outcome("f", "f: one", 1, 0.0, "f raised KeyError: 'k' (m.py, line 3)", cause="error f raised"),
        outcome("f", "f: two", 2, 2.0, "Passed."),
        outcome("g", "g: one", 3, 0.0, "f raised KeyError: 'k' (m.py, line 3)", cause="error f raised"),
        outcome("g", "g: two", 1, 0.0, "g is wrong.\n  expected: [1.]\n  got: [2.]"),
    ])
    assert [o.output for o in outcomes][2] == "f raised KeyError: 'k' (m.py, line 3)"
    text = feedback(outcomes)
    assert text.count("raised KeyError") == 1
    assert "This cost 4 points: \u201cf: one\u201d (1), \u201cg: one\u201d (3)." in text
    assert "g lost 3 points to the cause explained under f." in text
    assert text.index("### f: 2 / 3 points") < text.index("### g: 0 / 4 points") < text.index("g is wrong.")
    assert [line.split() for line in table(outcomes, "t").splitlines()[2:4]] == [
        ["f", "2", "/", "3"], ["f:", "one", "0", "/", "1", "FAIL"]]


def test_an_untouched_submission_names_one_cause_per_function(demo):
    text = feedback_markdown(demo["untouched-release"])
    for function in GRADED.spec.functions:
        if function.startswith("batchnorm_backward"):
            assert f"{function} lost " in text and "to the cause explained under batchnorm_forward" in text
        else:
            assert text.count(f"{function} is still the stub") == 1


@pytest.mark.parametrize("student", ["bn-eps-outside-sqrt", "bn-running-mean-not-updated"])
def test_every_failed_check_of_a_graded_demo_submission_is_counted_in_the_feedback(demo, student):
    result = demo[student]
    text = feedback_markdown(result)
    for o in result.outcomes:
        if not o.passed:
            assert f"\u201c{o.check.name}\u201d" in text or f"all {o.check.name}" in text


def test_the_command_line_lists_every_check_with_its_points():
    done = subprocess.run([sys.executable, "-m", "autograder", "checks"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    for check in GRADED.checks:
        [line] = [line for line in lines if line.strip().startswith(check.name + " ")]
        assert line.split()[-2:] == [f"{check.points:g}", "hidden" if check.hidden else "public"]
    assert lines[-1].split() == ["total", f"{sum(c.points for c in GRADED.checks):g}"]
    for group in GRADED.spec.groups:
        points = sum(c.points for c in GRADED.checks if c.group == group)
        assert f"{group} " in done.stdout and any(line.split() == [group, f"{points:g}"] for line in lines)


def test_a_submission_graded_alone_prints_its_grouped_feedback(solution_copy):
    path = solution_copy / "preprocessing.py"
    path.write_text(path.read_text().replace("return X - X.mean(axis=0)", "return X - X.mean()"))
    result = grade_submission(solution_copy)
    assert "### zero_centered: 0 / 3 points" in feedback_markdown(result)
