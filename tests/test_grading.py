"""The grader end to end: full marks, zero, each known mistake, robustness, the CLI."""
import dataclasses
import json
import re
import subprocess
import sys

import pytest

from autograder.classroom import grade_class
from autograder.grade import grade_submission
from autograder.kit import framework
from autograder.kit.report import group_scores
from autograder.kit.runner import ChildRunner
from autograder.reference import LiveReference
from autograder.reports.escape import code_block
from autograder.reports.results import MAX_CHECK_OUTPUT, MAX_OUTPUTS, results_dict
from autograder.reports.tables import feedback_markdown
from conftest import GRADED, MASTER, RELEASE, ROOT
from hostile.support import explained_once

MAX = sum(c.points for c in GRADED.checks)


def by_group(result):
    return group_scores(result.outcomes)


def test_reference_solution_earns_full_marks(demo):
    result = demo["reference-solution"]
    assert [o.check.name for o in result.outcomes if not o.passed] == []
    assert result.score == MAX


def test_untouched_release_earns_zero_and_says_why_once(demo):
    result = demo["untouched-release"]
    assert result.score == 0
    # The backward passes need the forward's cache, so their checks stop at the forward's stub.
    stub_of = {f: "batchnorm_forward" if f.startswith("batchnorm_backward") else f for f in GRADED.spec.functions}
    for o in result.outcomes:
        assert o.output.startswith(f"{stub_of[o.check.function]} is still the stub"), (o.check.name, o.output)
    text = feedback_markdown(result)
    assert {f: text.count(f"{f} is still the stub") for f in stub_of} == {f: int(stub_of[f] == f) for f in stub_of}


def test_correct_work_written_differently_earns_full_marks():
    result = grade_submission(ROOT / "tests" / "submissions" / "alternative")
    assert [(o.check.name, o.output) for o in result.outcomes if not o.passed] == []


# A function's checks form its own group, or its module's (preprocessing, initializers).
GROUP_OF = {function: function if function in GRADED.spec.groups else module
            for function, module in GRADED.spec.functions.items()}


@pytest.mark.parametrize("mistake", GRADED.catalogue, ids=lambda m: m.id)
def test_each_known_mistake_loses_points_only_where_it_should_and_is_named_once(demo, mistake):
    failed = [o for o in demo[mistake.id].outcomes if not o.passed]
    assert failed, f"{mistake.id} earned full marks"
    for o in failed:
        assert o.check.group == GROUP_OF[mistake.function] and mistake.function in o.check.tags, \
            f"{mistake.id} lost points on check {o.check.name!r} of another function"
    named = [o for o in failed if f"Likely misconception: {mistake.sentence}" in o.output]
    assert len(named) == 1, f"the feedback of {mistake.id} names its misconception {len(named)} times"
    assert all(o.misconception == mistake.id for o in named)


def test_a_syntax_error_costs_only_its_module(demo):
    result = demo["syntax-error"]
    groups = by_group(result)
    assert groups["preprocessing"][0] == 0
    assert result.score == MAX - groups["preprocessing"][1]
    explained_once([o for o in result.outcomes if not o.passed], "preprocessing.py has a syntax error on line")


def test_an_endless_loop_costs_only_the_function_that_hangs(demo):
    result = demo["endless-loop"]
    assert by_group(result)["batchnorm_backward_alt"][0] == 0
    assert result.score == MAX - by_group(result)["batchnorm_backward_alt"][1]
    assert any("did not return within" in o.output for o in result.outcomes)


def test_a_missing_module_and_a_missing_function_are_explained(solution_copy):
    (solution_copy / "initializers.py").unlink()
    path = solution_copy / "preprocessing.py"
    path.write_text(path.read_text().replace("def normalized(X):", "def normalised(X):"))
    result = grade_submission(solution_copy)
    texts = {o.check.name: o.output for o in result.outcomes if not o.passed}
    initializers = [o for o in result.outcomes if o.check.group == "initializers"]
    explained_once(initializers, "the submission has no initializers.py")
    assert "preprocessing.py defines no function named normalized" in texts[
        "normalized: a batch with a constant feature"]
    forward = by_group(result)["batchnorm_forward"]
    assert forward[0] == forward[1] > 0


def test_a_missing_folder_gets_a_sentence_not_a_crash(tmp_path):
    result = grade_submission(tmp_path / "nowhere")
    assert result.score == 0 and "is not a folder" in result.notice


@pytest.mark.parametrize("name", ["bn-unbiased-variance", "init-he-double-fan-in", "syntax-error"])
def test_the_same_submission_gets_the_same_result_twice(demo, demo_folders, name):
    folder = next(f for f in demo_folders if f.name == name)
    first, again = results_dict(demo[name]), results_dict(grade_submission(folder))
    first.pop("execution_time"), again.pop("execution_time")
    assert first == again


class RecordingStudent:
    """Runs the reference in-process and records which student functions a check calls."""

    def __init__(self, runner):
        self.runner, self.called = runner, set()

    def call(self, function, *args, keep=(), **kwargs):
        self.called.add(function)
        return self.runner.call(function, *args, keep=keep, **kwargs)


def test_tags_name_every_function_a_check_exercises():
    reference = LiveReference(GRADED)
    with ChildRunner(MASTER, GRADED.spec.functions) as child:
        for check in GRADED.checks:
            student = RecordingStudent(child)
            assert framework.run_check(check, student, reference).passed, check.name
            assert student.called <= set(check.tags), f"{check.name}: tags miss {student.called - set(check.tags)}"
            if "data_preprocess" in student.called:
                assert {"zero_centered", "normalized"} <= set(check.tags)
            if student.called & {"batchnorm_backward", "batchnorm_backward_alt"}:
                assert "batchnorm_forward" in check.tags


def test_feedback_never_shows_the_reference_or_hidden_sources(demo):
    reference_lines = {line.strip() for m in ("preprocessing", "initializers", "batchnorm")
                       for line in (MASTER / f"{m}.py").read_text().splitlines()
                       if len(line.strip()) > 25 and not line.strip().startswith(('"', "#", "``"))}
    check_lines = {line.strip() for path in (MASTER / "grading" / "hidden").glob("*.py")
                   for line in path.read_text().splitlines() if "=" in line and len(line.strip()) > 25}
    assert reference_lines and len(check_lines) > 20
    for result in demo.values():
        text = json.dumps(results_dict(result))
        leaked = [line for line in reference_lines | check_lines if line in text]
        assert leaked == [], f"{result.name}: feedback shows source lines {leaked[:3]}"


def test_results_follow_the_gradescope_format(demo):
    data = results_dict(demo["bn-eps-outside-sqrt"])
    assert set(data) >= {"score", "execution_time", "tests"}
    assert data["score"] == sum(t["score"] for t in data["tests"]) and len(data["tests"]) == len(GRADED.checks)
    for test in data["tests"]:
        assert set(test) == {"name", "score", "max_score", "status", "output", "output_format", "visibility", "tags"}
        assert test["output_format"] == "md"
        assert test["status"] == ("passed" if test["score"] == test["max_score"] else "failed")
        assert test["tags"] and test["visibility"] in ("visible", "hidden", "after_due_date", "after_published")


def test_results_and_feedback_stay_bounded_whatever_the_checks_wrote(demo):
    result = demo["bn-eps-outside-sqrt"]
    assert [t["output"] for t in results_dict(result)["tests"]] == [code_block(o.output) for o in result.outcomes]
    flooded = dataclasses.replace(result, outcomes=[dataclasses.replace(o, score=0.0, output="x" * (1 << 20))
                                                    for o in result.outcomes])
    outputs = [t["output"] for t in results_dict(flooded)["tests"]]
    assert all(len(text) <= MAX_CHECK_OUTPUT and text.endswith("more characters cut]") for text in outputs)
    assert sum(map(len, outputs)) < MAX_OUTPUTS + 50 * len(outputs)
    assert len(feedback_markdown(flooded)) < MAX_OUTPUTS + 200 * len(outputs)


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "autograder", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True)


def test_cli_writes_a_json_result_and_exits_zero_whatever_the_score(tmp_path):
    done = run_cli("grade", RELEASE, "--json", tmp_path / "r.json")
    assert done.returncode == 0, done.stderr
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["score"] == 0 and len(data["tests"]) == len(GRADED.checks)
    assert "untouched" not in done.stdout and f"0/{MAX:g}" in done.stdout.replace(" ", "")


def test_cli_out_writes_a_file_per_submission_and_the_class_files(tmp_path, solution_copy):
    done = run_cli("grade", solution_copy, RELEASE, ROOT / "tests" / "submissions" / "alternative",
                   "--out", tmp_path / "out", "--jobs", "2")
    assert done.returncode == 0, done.stderr
    out = tmp_path / "out"
    rows = (out / "grades.csv").read_text().splitlines()
    assert rows[0].startswith("submission,status,preprocessing,initializers")
    assert [r.split(",")[0] for r in rows[1:]] == ["submission", "release", "alternative"]
    assert [r.split(",")[-3] for r in rows[1:]] == [f"{MAX:g}", "0", f"{MAX:g}"]
    assert [r.split(",")[-1] for r in rows[1:]] == [str(solution_copy), str(RELEASE),
                                                    str(ROOT / "tests" / "submissions" / "alternative")]
    for name in ("submission", "release", "alternative"):
        assert json.loads((out / f"{name}.json").read_text())["tests"]
        assert (out / f"{name}.md").read_text().startswith(f"# Feedback for {name}")
    assert not list(out.glob(".*.tmp"))


@pytest.mark.parametrize("args", [["grade"], ["grade", "a", "b", "--json", "x.json"], ["grade", "a", "--jobs", "0"],
                                  ["grade", "a", "--timeout", "-1"], ["grade", "a", "--budget", "0"],
                                  ["demo", "--jobs", "0"],
                                  ["grade", "a", "--bogus"], ["frobnicate"]])
def test_cli_bad_usage_exits_nonzero_with_a_message(args):
    done = run_cli(*args)
    assert done.returncode == 2 and "usage:" in done.stderr


def test_a_grader_failure_on_one_submission_does_not_stop_the_class(monkeypatch, tmp_path, solution_copy):
    import autograder.grade as grade
    real = grade._grade_folder

    def flaky(folder, *args):
        if folder.name == "broken":
            raise OSError("disk full")
        return real(folder, *args)

    monkeypatch.setattr(grade, "_grade_folder", flaky)
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "preprocessing.py").write_text("")
    results = grade_class([tmp_path / "broken", solution_copy], out=tmp_path / "out", progress=False)
    assert results[0].score == 0 and "The grader failed on this submission" in results[0].notice
    assert results[0].faults == [("broken", "OSError: disk full")]
    assert "disk full" not in json.dumps(results_dict(results[0]))
    assert results[1].score == MAX
    assert json.loads((tmp_path / "out" / "broken.json").read_text())["score"] == 0


def test_an_unforeseen_error_in_a_check_costs_only_that_check():
    check = framework.Check("odd", "preprocessing", 1, ("zero_centered",), lambda s, r: [][0])
    outcome = framework.run_check(check, None, LiveReference(GRADED))
    assert outcome.score == 0 and "could not judge your result" in outcome.output
    assert outcome.error.startswith("IndexError")


def test_a_module_linked_to_the_reference_is_not_graded(solution_copy):
    (solution_copy / "batchnorm.py").unlink()
    (solution_copy / "batchnorm.py").symlink_to(MASTER / "batchnorm.py")
    result = grade_submission(solution_copy)
    assert result.score == MAX - sum(c.points for c in GRADED.checks if c.group.startswith("batchnorm"))
    explained_once([o for o in result.outcomes if o.check.group.startswith("batchnorm")],
                   "the submission has no batchnorm.py")


def test_result_names_never_collide_or_overwrite_the_class_files():
    from autograder.classroom import unique_names
    names = unique_names(["a", "a", "a-2", "summary", "report", "../etc", "Zoë Smith", ""])
    assert len(set(names)) == len(names) == 8
    assert not {"summary", "report", "grades", "table"} & set(names)
    assert all(re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name) for name in names), names


@pytest.mark.parametrize("mistake", GRADED.catalogue, ids=lambda m: m.id)
def test_a_known_mistake_is_never_taken_for_another(demo, mistake):
    """Each demo submission makes one catalogued mistake: no check names another one."""
    named = {o.misconception for o in demo[mistake.id].outcomes} - {""}
    assert named == {mistake.id}


def test_half_of_a_known_mistake_is_described_in_words_not_named(solution_copy):
    """running_mean never updated and running_var averaged with the momentum swapped:
    half of 'not stored', half of 'momentum swapped', all of neither. Nothing is named;
    the feedback says what differs."""
    path = solution_copy / "batchnorm.py"
    path.write_text(path.read_text()
                    .replace("        running_mean = momentum * running_mean + (1 - momentum) * mu\n", "")
                    .replace("= momentum * running_var + (1 - momentum) * var\n",
                             "= (1 - momentum) * running_var + momentum * var\n"))
    result = grade_submission(solution_copy)
    lost = [o for o in result.outcomes if not o.passed]
    assert lost and all(o.misconception == "" for o in lost)
    assert "running_mean did not change after a training step" in lost[0].output


def test_eps_outside_the_square_root_in_test_mode_alone_is_named(solution_copy):
    path = solution_copy / "batchnorm.py"
    path.write_text(path.read_text().replace("np.sqrt(running_var + eps)", "(np.sqrt(running_var) + eps)"))
    result = grade_submission(solution_copy)
    lost = [o for o in result.outcomes if not o.passed]
    assert [o.check.name for o in lost] == ["batchnorm_forward: test mode normalizes with the running averages"]
    assert lost[0].misconception == "bn-eps-outside-sqrt"


@pytest.mark.parametrize("mistake", ["init-xavier-fan-out", "init-he-fan-out", "bn-running-mean-not-updated"])
def test_the_public_self_check_names_the_mistakes_the_grader_names(demo_folders, mistake):
    folder = next(f for f in demo_folders if f.name == mistake)
    done = subprocess.run([sys.executable, "-m", "selfcheck"], cwd=folder, capture_output=True, text=True)
    sentence = next(m.sentence for m in GRADED.catalogue if m.id == mistake)
    assert done.returncode == 0 and f"Likely misconception: {sentence}" in done.stdout, done.stdout + done.stderr
