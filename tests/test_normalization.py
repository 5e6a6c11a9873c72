"""The second assignment, layer, spatial batch and group normalization, graded end to
end: full marks for the reference and for correct work written otherwise, zero for the
untouched release, each known mistake charged to its own function only and named once,
failures contained, the command line, Gradescope and the versions in sync."""
import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
from test_builder import _assert_same_tree, _build, _course_copy
from test_gradescope import run_autograder, unpack
from test_grading import RecordingStudent

from autograder.assignments import load
from autograder.classroom import grade_class
from autograder.demo import build_demo_class
from autograder.grade import grade_submission
from autograder.gradescope.bundle import build_bundle
from autograder.kit import framework
from autograder.kit.report import group_scores
from autograder.kit.runner import ChildRunner
from autograder.reference import LiveReference
from autograder.reports.results import results_dict
from autograder.reports.tables import feedback_markdown
from conftest import ROOT, load_module
from hostile.support import explained_once

NORMALIZATION = load("normalization", ROOT)
MASTER = NORMALIZATION.master
RELEASE = ROOT / "release" / "normalization"
SOLUTIONS = ROOT / "solutions" / "normalization"
ALTERNATIVE = ROOT / "tests" / "submissions" / "normalization-alternative"
MODULES = sorted({module for module in NORMALIZATION.spec.functions.values()})
MAX = sum(c.points for c in NORMALIZATION.checks)
POINTS = {g: sum(c.points for c in NORMALIZATION.checks if c.group == g) for g in NORMALIZATION.spec.groups}


def copy_of_the_solution(folder):
    """A writable copy of the solution version's modules in ``folder``, to turn into a test submission."""
    folder.mkdir()
    for module in MODULES:
        shutil.copy(SOLUTIONS / f"{module}.py", folder)
    return folder


@pytest.fixture
def normalization_copy(tmp_path):
    return copy_of_the_solution(tmp_path / "submission")


def patched(folder, module, *replacements):
    """``folder`` with each (old, new) replaced once in ``module``.py."""
    path = folder / f"{module}.py"
    text = path.read_text()
    for old, new in replacements:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path.write_text(text)
    return folder


def grade(folder):
    return grade_submission(folder, assignment=NORMALIZATION)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The normalization demo class, graded once: {name: Result}."""
    folders = build_demo_class(tmp_path_factory.mktemp("normalization-demo"), assignment=NORMALIZATION)
    results = grade_class(folders, out=tmp_path_factory.mktemp("normalization-grades") / "out", jobs=2,
                          progress=False, assignment=NORMALIZATION)
    return {r.name: r for r in results}


def test_its_interface_points_and_catalogue():
    assert NORMALIZATION.spec.functions == {
        "layernorm_forward": "layernorm", "layernorm_backward": "layernorm",
        "spatial_batchnorm_forward": "spatial_batchnorm", "spatial_batchnorm_backward": "spatial_batchnorm",
        "spatial_groupnorm_forward": "groupnorm", "spatial_groupnorm_backward": "groupnorm"}
    assert POINTS == {"layernorm_forward": 11, "layernorm_backward": 10, "spatial_batchnorm_forward": 21,
                      "spatial_batchnorm_backward": 10, "spatial_groupnorm_forward": 12,
                      "spatial_groupnorm_backward": 10}
    assert {c.group for c in NORMALIZATION.public_checks} == set(NORMALIZATION.spec.groups)
    assert len({c.name for c in NORMALIZATION.checks}) == len(NORMALIZATION.checks)
    issue = {"ln-batch-axis", "sbn-per-position-statistics", "sbn-reshape-without-transpose",
             "gn-interleaved-groups", "gn-backward-parameters-as-C", "sbn-test-uses-batch-statistics",
             "ln-backward-missing-mean-path", "sbn-backward-missing-mean-path", "gn-backward-missing-mean-path"}
    assert issue <= {m.id for m in NORMALIZATION.catalogue}


def test_reference_solution_earns_full_marks(demo):
    result = demo["reference-solution"]
    assert [o.check.name for o in result.outcomes if not o.passed] == []
    assert result.score == MAX == 74


def test_untouched_release_earns_zero_and_says_once_per_function_that_it_is_a_stub(demo):
    result = demo["untouched-release"]
    assert result.score == 0
    # A backward pass's checks need its forward pass's cache, so they stop at the forward's stub.
    stub_of = {f: f.replace("_backward", "_forward") for f in NORMALIZATION.spec.functions}
    for o in result.outcomes:
        assert o.output.startswith(f"{stub_of[o.check.function]} is still the stub"), (o.check.name, o.output)
    text = feedback_markdown(result)
    assert {f: text.count(f"{f} is still the stub") for f in stub_of} == {f: int(stub_of[f] == f) for f in stub_of}


def test_correct_work_written_differently_earns_full_marks():
    result = grade(ALTERNATIVE)
    assert [(o.check.name, o.output) for o in result.outcomes if not o.passed] == []


@pytest.mark.parametrize("mistake", NORMALIZATION.catalogue, ids=lambda m: m.id)
def test_each_known_mistake_loses_points_only_in_its_function_and_is_named_once(demo, mistake):
    failed = [o for o in demo[mistake.id].outcomes if not o.passed]
    assert failed, f"{mistake.id} earned full marks"
    for o in failed:
        assert o.check.group == mistake.function, f"{mistake.id} lost points on {o.check.name!r}"
    named = [o for o in failed if f"Likely misconception: {mistake.sentence}" in o.output]
    assert len(named) == 1 and named[0].misconception == mistake.id


def test_a_syntax_error_costs_only_its_module(demo):
    result = demo["syntax-error"]
    lost = {g for g, (score, total) in group_scores(result.outcomes).items() if score < total}
    assert lost == {"spatial_groupnorm_forward", "spatial_groupnorm_backward"}
    assert result.score == MAX - POINTS["spatial_groupnorm_forward"] - POINTS["spatial_groupnorm_backward"]
    explained_once([o for o in result.outcomes if not o.passed], "groupnorm.py has a syntax error on line")


def test_an_endless_loop_costs_only_the_function_that_hangs(demo):
    result = demo["endless-loop"]
    assert result.score == MAX - POINTS["layernorm_backward"]
    assert any("did not return within" in o.output for o in result.outcomes)


def test_the_same_submission_gets_the_same_result_twice(demo, normalization_copy):
    [mistake] = [m for m in NORMALIZATION.catalogue if m.id == "sbn-reshape-without-transpose"]
    patched(normalization_copy, "spatial_batchnorm", *mistake.patches)
    runs = [results_dict(grade(normalization_copy)), results_dict(demo[mistake.id])]
    for data in runs:
        data.pop("execution_time")
    assert runs[0] == runs[1]


def test_tags_name_every_function_a_check_exercises():
    reference = LiveReference(NORMALIZATION)
    with ChildRunner(MASTER, NORMALIZATION.spec.functions) as child:
        for check in NORMALIZATION.checks:
            student = RecordingStudent(child)
            assert framework.run_check(check, student, reference).passed, check.name
            assert student.called and student.called <= set(check.tags), check.name
            assert check.group in student.called, f"{check.name} never calls its own function"


def test_every_output_of_every_function_has_checks_of_its_own():
    names = [c.name for c in NORMALIZATION.checks]
    for layer in ("layernorm", "spatial_batchnorm", "spatial_groupnorm"):
        for gradient in ("dx", "dgamma", "dbeta"):
            assert any(n.startswith(f"{layer}_backward: {gradient} ") for n in names), (layer, gradient)
    for key in ("running_mean", "running_var"):
        assert sum(n.startswith(f"spatial_batchnorm_forward: {key} ") for n in names) == 2, key


def test_feedback_never_shows_the_reference_or_hidden_sources(demo):
    reference_lines = {line.strip() for m in MODULES for line in (MASTER / f"{m}.py").read_text().splitlines()
                       if len(line.strip()) > 25 and not line.strip().startswith(('"', "#", "``"))}
    check_lines = {line.strip() for path in (MASTER / "grading").rglob("*.py")
                   for line in path.read_text().splitlines() if "=" in line and len(line.strip()) > 25}
    assert len(reference_lines) > 20 and len(check_lines) > 50
    for result in demo.values():
        text = json.dumps(results_dict(result))
        leaked = [line for line in reference_lines | check_lines if line in text]
        assert leaked == [], f"{result.name}: feedback shows source lines {leaked[:3]}"


def run(*args, cwd=ROOT):
    return subprocess.run([sys.executable, *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_the_command_line_grades_it_by_name(tmp_path):
    target = tmp_path / "r.json"
    done = run("-m", "autograder", "grade", ALTERNATIVE, "--assignment", "normalization", "--json", target)
    assert done.returncode == 0, done.stderr
    data = json.loads(target.read_text())
    assert data["score"] == MAX and len(data["tests"]) == len(NORMALIZATION.checks)
    assert {tag for test in data["tests"] for tag in test["tags"]} == set(NORMALIZATION.spec.functions)
    # Without --assignment the course's default, batchnorm, grades it: none of its modules is there,
    # which the instructor is told, with the exit status 1 of a run in which nothing was gradable.
    done = run("-m", "autograder", "grade", ALTERNATIVE, "--json", target)
    assert done.returncode == 1 and json.loads(target.read_text())["score"] == 0
    assert "grade them with --assignment normalization" in done.stderr


def test_its_gradescope_bundle_grades_it_like_the_command_line(tmp_path, normalization_copy):
    bundle = build_bundle(tmp_path / "autograder.zip", NORMALIZATION, ["--hidden-visibility", "after_due_date"])
    root = unpack(bundle, tmp_path / "autograder")
    assert not list((root / "source" / "assignment").glob("batchnorm*"))
    [mistake] = [m for m in NORMALIZATION.catalogue if m.id == "ln-backward-forgets-gamma"]
    patched(normalization_copy, "layernorm", *mistake.patches)
    results, _ = run_autograder(root, normalization_copy)
    target = tmp_path / "cli.json"
    done = run("-m", "autograder", "grade", normalization_copy, "--assignment", "normalization", "--json", target,
               "--hidden-visibility", "after_due_date")
    assert done.returncode == 0, done.stderr
    cli = json.loads(target.read_text())
    assert {k: v for k, v in results.items() if k != "execution_time"} == \
        {k: v for k, v in cli.items() if k != "execution_time"}
    assert results["score"] == MAX - 5


def test_its_self_check_runs_in_the_student_folders():
    stubs = run("-m", "selfcheck", cwd=RELEASE)
    assert stubs.returncode == 0 and "total" in stubs.stdout and " 0 / 23" in stubs.stdout
    assert "layernorm_forward is still the stub" in stubs.stdout
    solved = run("-m", "selfcheck", cwd=SOLUTIONS)
    assert "Every check passed" in solved.stdout and "23 / 23" in solved.stdout


def test_its_release_holds_stubs_and_the_public_checks_but_no_solution_or_hidden_check():
    texts = {p: p.read_text(errors="replace") for p in RELEASE.rglob("*")
             if p.is_file() and "__pycache__" not in p.parts}
    for path, text in texts.items():
        for word in ("BEGIN SOLUTION", "END SOLUTION", "HIDDEN TESTS", "spatial_batchnorm_forward: test mode"):
            assert word not in text, f"{path} holds {word!r}"
    assert not (RELEASE / "grading").exists() and (RELEASE / "selfcheck" / "assignment" / "public").is_dir()
    # It stands on its own: none of the first assignment's modules, solved or not.
    assert not {"batchnorm.py", "preprocessing.py", "initializers.py"} & {p.name for p in texts}
    given = "".join(t for p, t in texts.items() if p.suffix == ".py" and "selfcheck" not in p.parts)
    assert "def batchnorm_forward(" not in given and "from batchnorm import" not in given
    x, gamma = np.ones((2, 3, 2, 2)), np.ones(3)
    calls = {"layernorm": [("layernorm_forward", (np.ones((2, 3)), np.ones(3), np.zeros(3), {})),
                           ("layernorm_backward", (np.ones((2, 3)), None))],
             "spatial_batchnorm": [("spatial_batchnorm_forward", (x, gamma, gamma, {"mode": "train"})),
                                   ("spatial_batchnorm_backward", (x, None))],
             "groupnorm": [("spatial_groupnorm_forward", (x, gamma.reshape(1, 3, 1, 1), gamma.reshape(1, 3, 1, 1), 3,
                                                          {})),
                           ("spatial_groupnorm_backward", (x, None))]}
    for module, functions in calls.items():
        released = load_module(RELEASE / f"{module}.py", f"_released_{module}")
        for function, args in functions:
            with pytest.raises(NotImplementedError):
                getattr(released, function)(*args)


def test_committed_release_solutions_and_stored_answers_are_in_sync_with_the_master(tmp_path):
    course = _course_copy(tmp_path)
    for version, committed in (("release", RELEASE), ("solutions", SOLUTIONS)):
        done = _build(course, version)
        assert done.returncode == 0, done.stderr
        _assert_same_tree(course / version / "normalization", committed)
    done = run("-m", "autograder", "record", "--course", course, "--assignment", "normalization")
    assert done.returncode == 0, done.stderr
    recorded = course / "assignment" / "normalization" / "grading" / "public" / "expected.json"
    assert recorded.read_text() == (NORMALIZATION.public_folder / "expected.json").read_text(), \
        "expected.json is stale; run `make release`"
