"""The PrairieLearn question, copied into a folder laid out like a grading job's
/grade and run as PrairieLearn runs its entrypoint, grades exactly as
``python -m autograder grade`` does, as a fraction; a submission without a module is
not gradable; student code can neither read the grader's files nor forge the results."""
import json
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.grade import Result, grade_submission
from autograder.hosted import pinned_requirements
from autograder.intake import find_modules, unfound
from autograder.kit.framework import Check, Outcome
from autograder.misconceptions import apply
from autograder.prairielearn import __main__ as prairielearn_main
from autograder.prairielearn.question import (
    ENTRYPOINT,
    MAX_JOB_SECONDS,
    NotAQuestionFolder,
    build_question,
    job_timeout,
)
from autograder.prairielearn.results import HIDDEN, MAX_BYTES, results_dict, results_json
from autograder.sandbox import SandboxUnavailable
from conftest import GRADED, RELEASE, ROOT, SOLUTIONS

MODULES = GRADED.spec.modules
QUESTION_KEYS = {"uuid", "title", "topic", "tags", "type", "singleVariant", "gradingMethod", "externalGradingOptions"}
GRADING_KEYS = {"enabled", "image", "entrypoint", "serverFilesCourse", "timeout", "enableNetworking", "environment"}


@pytest.fixture(scope="module")
def build(tmp_path_factory):
    out = tmp_path_factory.mktemp("prairielearn") / "batchnorm"
    build_question(out, GRADED, job_timeout(60))
    return out


@pytest.fixture(scope="module")
def job(build, tmp_path_factory):
    """A folder laid out like a grading job's /grade: the question's tests/ as
    PrairieLearn copies them (its own copy of the grader, not the repository's)."""
    root = tmp_path_factory.mktemp("grade")
    shutil.copytree(build / "questions" / "batchnorm" / "tests", root / "tests", symlinks=True)
    return root


@pytest.fixture(scope="module")
def buggy(tmp_path_factory):
    mistake = next(m for m in GRADED.catalogue if m.id == "bn-unbiased-variance")
    folder = tmp_path_factory.mktemp("buggy") / mistake.id
    folder.mkdir()
    for name in MODULES:
        shutil.copy(SOLUTIONS / name, folder / name)
    module = folder / f"{GRADED.module_of(mistake.function)}.py"
    module.write_text(apply(mistake, module.read_text(), "batchnorm"))
    return folder


def grade_job(root, files):
    """Upload ``files`` (a folder's modules, or {name: text}) to root/student and run
    the question's entrypoint as PrairieLearn does: results.json and the log."""
    for folder in ("student", "results"):
        shutil.rmtree(root / folder, ignore_errors=True)
    (root / "student").mkdir()
    if isinstance(files, Path):
        files = {name: (files / name).read_text() for name in MODULES if (files / name).exists()}
    for name, text in files.items():
        (root / "student" / name).parent.mkdir(parents=True, exist_ok=True)  # a name may hold folders
        (root / "student" / name).write_text(text)
    env = dict(os.environ, GRADE_ROOT=str(root), GRADER_PYTHON=sys.executable)
    done = subprocess.run(["bash", str(root / "tests" / "run_grader")], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads((root / "results" / "results.json").read_text()), done.stdout


def cli_results(submission, tmp_path):
    target = tmp_path / "cli.json"
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", str(submission), "--json", str(target)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(target.read_text())


@pytest.mark.parametrize("which", ["solution", "release", "buggy"])
def test_the_question_grades_like_the_command_line_as_a_fraction(which, job, buggy, tmp_path):
    submission = {"solution": SOLUTIONS, "release": RELEASE, "buggy": buggy}[which]
    results, log = grade_job(job, submission)
    # The job's own copy of the grader ran, not the repository's.
    assert f"with the autograder in {job / 'tests' / 'autograder'}" in log
    cli = cli_results(submission, tmp_path)
    max_score = sum(t["max_score"] for t in cli["tests"])
    assert results["gradable"] is True
    assert results["score"] == cli["score"] / max_score
    assert [(t["name"], t["points"], t["max_points"]) for t in results["tests"]] == \
        [(t["name"], t["score"], t["max_score"]) for t in cli["tests"]]
    assert sum(t["points"] for t in results["tests"]) == cli["score"]
    assert {"solution": results["score"] == 1.0, "release": results["score"] == 0.0,
            "buggy": 0 < results["score"] < 1}[which]
    assert len(json.dumps(results)) < MAX_BYTES


def test_a_missing_module_is_not_gradable_and_costs_no_attempt(job):
    files = {name: (SOLUTIONS / name).read_text() for name in MODULES if name != "batchnorm.py"}
    results, log = grade_job(job, files)
    assert results["gradable"] is False
    assert results["format_errors"] == [
        f"batchnorm.py is missing: upload it with the other modules ({', '.join(MODULES)})."]
    assert "tests" not in results and "does not count as an attempt" in results["message"]
    assert "not gradable" in log


def test_an_oversized_module_is_not_gradable(job):
    files = {name: (SOLUTIONS / name).read_text() for name in MODULES}
    files["initializers.py"] += "#" * (1 << 20)
    results, _ = grade_job(job, files)
    assert results["gradable"] is False
    assert results["format_errors"] == ["initializers.py is larger than 1 MiB; upload the module itself."]


def test_a_syntax_error_is_graded_as_on_the_command_line(job, tmp_path):
    """Gradable: a mistake in the code costs what it costs everywhere (SPEC 5.7)."""
    submission = tmp_path / "broken"
    submission.mkdir()
    for name in MODULES:
        shutil.copy(SOLUTIONS / name, submission / name)
    (submission / "preprocessing.py").write_text("def zero_centered(X:\n")
    results, _ = grade_job(job, submission)
    cli = cli_results(submission, tmp_path)
    assert results["gradable"] is True and 0 < results["score"] < 1
    assert results["score"] == cli["score"] / sum(t["max_score"] for t in cli["tests"])


HOSTILE = '''
import json, pathlib
ROOT = pathlib.Path({root!r})
try:  # forge a perfect score
    (ROOT / "results" / "results.json").write_text(json.dumps({{"gradable": True, "score": 1.0, "forged": True}}))
except OSError:
    pass
try:  # or become the reference solution
    exec((ROOT / "tests" / "assignment" / "batchnorm" / {module!r}).read_text())
except OSError:
    pass
'''


def test_student_code_can_neither_read_the_grader_nor_forge_the_results(job):
    """Every module of the release, each trying at import to overwrite results.json
    and to run the reference solution in its place: it earns what the release earns."""
    files = {name: (RELEASE / name).read_text() + HOSTILE.format(root=str(job), module=name) for name in MODULES}
    results, _ = grade_job(job, files)
    assert "forged" not in results and results["gradable"] is True
    assert results["score"] == 0.0 and len(results["tests"]) == len(GRADED.checks)


def test_feedback_never_shows_the_reference_source(job, buggy):
    results, _ = grade_job(job, buggy)
    shown = json.dumps(results)
    master = (ROOT / "assignment" / "batchnorm" / "batchnorm.py").read_text()
    solution_lines = {line.strip() for block in re.findall(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", master, re.S)
                      for line in block.splitlines() if len(line.strip()) > 15}
    assert solution_lines
    assert not [line for line in solution_lines if json.dumps(line)[1:-1] in shown]


def test_the_student_uid_can_run_the_runner_but_not_read_the_reference_or_hidden_checks(job, buggy):
    grade_job(job, buggy)
    tests = job / "tests"
    # Everything of the assignment (the reference modules, grading/hidden/...) is root's alone.
    secret = [tests / "assignment", *(tests / "assignment").rglob("*")]
    assert tests / "assignment" / "batchnorm" / "grading" / "hidden" / "forward.py" in secret
    assert [p for p in secret + [tests / "autograder" / "grade.py"] if p.stat().st_mode & 0o077] == []
    # What the fallback sandbox's uid must read stays readable (the sandbox's own list of it).
    code = ("from autograder.sandbox.launchers import _runtime; import pathlib; "
            f"print('\\n'.join(str(p) for p in _runtime() if pathlib.Path({str(tests)!r}) in p.parents))")
    inside = subprocess.run([sys.executable, "-B", "-c", code], cwd=tests, capture_output=True, text=True,
                            check=True).stdout.split()
    assert len(inside) == 2  # the runner's child.py and confine.py
    for path in map(Path, inside):
        assert path.stat().st_mode & 0o004, path
        assert all(p.stat().st_mode & 0o001 for p in path.parents if p == job or job in p.parents), path


def test_hidden_checks_show_names_and_points_unless_visible(buggy):
    result = grade_submission(buggy, assignment=GRADED)
    hidden = {c.name for c in GRADED.checks if c.hidden}
    failed_hidden = [o for o in result.outcomes if o.check.hidden and not o.passed]
    assert hidden and failed_hidden
    default = results_dict(result, prairielearn_main.HIDDEN_VISIBILITY)
    for test in default["tests"]:
        if test["name"] in hidden:
            assert set(test) == {"name", "points", "max_points", "message"} and test["message"] == HIDDEN
    assert not [o for o in failed_hidden if o.output.split("\n")[0] in json.dumps(default)]
    visible = results_dict(result, "visible")
    assert [t["message"] for t in visible["tests"] if t["name"] in hidden] == \
        [o.output for o in result.outcomes if o.check.hidden]
    summed = results_dict(result, "hidden")
    assert [t["name"] for t in summed["tests"]] == [c.name for c in GRADED.public_checks] + \
        [f"{len(hidden)} hidden checks"]
    for shown in (default, visible, summed):
        assert sum(t["points"] for t in shown["tests"]) == result.score
        assert shown["score"] == result.score / result.max_score


def test_results_stay_under_the_cap_whatever_the_feedback_holds():
    """Feedback at its bounds, in characters that JSON escapes six or twelve bytes
    long, and terminal escapes, which would colour the student's page."""
    check = Check("a check", "part", 1.0, ("f",), None)
    outcomes = [Outcome(check, 0.0, "\x1b[8m" + "\U0001F600\x01" * 10_000) for _ in range(60)]
    result = Result("submission", outcomes, (), 1.0)
    text = results_json(result, "visible")
    assert len(text.encode()) <= MAX_BYTES
    results = json.loads(text)
    assert "\U0001F600\ufffd\U0001F600" in results["tests"][0]["message"]
    assert "\x1b" not in text and "\\u001b" not in text and "\\u0001" not in text


def test_a_grader_that_cannot_confine_student_code_reports_not_gradable(tmp_path, monkeypatch, capsys):
    def unavailable(args):
        raise SandboxUnavailable("no sandbox here")
    monkeypatch.setattr(prairielearn_main, "launcher_of", unavailable)
    (tmp_path / "student").mkdir()
    assert prairielearn_main.main(["run", "--root", str(tmp_path)]) == 0
    results = json.loads((tmp_path / "results" / "results.json").read_text())
    assert results["gradable"] is False and "no sandbox here" in capsys.readouterr().err
    assert "no sandbox here" not in json.dumps(results)


def test_the_question_is_laid_out_for_prairielearn_and_byte_identical(build, tmp_path):
    question = build / "questions" / "batchnorm"
    info = json.loads((question / "info.json").read_text())
    assert set(info) <= QUESTION_KEYS and set(info["externalGradingOptions"]) <= GRADING_KEYS
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", info["uuid"])
    grading = info["externalGradingOptions"]
    assert grading["enabled"] is True and grading["entrypoint"] == ENTRYPOINT == "/grade/tests/run_grader"
    assert isinstance(grading["timeout"], int) and 60 < grading["timeout"] <= MAX_JOB_SECONDS
    html = (question / "question.html").read_text()
    assert f'<pl-file-upload file-names="{", ".join(MODULES)}"></pl-file-upload>' in html
    assert "<pl-external-grader-results>" in html
    tests = question / "tests"
    assert {"run_grader", "autograder", "assignment"} == {p.name for p in tests.iterdir()}
    assert (tests / "run_grader").stat().st_mode & stat.S_IXUSR
    assert (tests / "assignment" / "batchnorm" / "grading" / "hidden" / "forward.py").is_file()
    assert not list(tests.rglob("__pycache__")) and not list(tests.rglob("*.ipynb"))
    assert (build / "image" / "requirements.txt").read_text() == pinned_requirements()
    dockerfile = (build / "image" / "Dockerfile").read_text()
    assert "bubblewrap" in dockerfile and "requirements.txt" in dockerfile and "assignment/" not in dockerfile
    # The entrypoint's interpreter is the one the image installs numpy into.
    venv = re.search(r'GRADER_PYTHON:-(/[^}]+)/bin/python', (tests / "run_grader").read_text()).group(1)
    assert f"python -m venv {venv} " in dockerfile and f"{venv}/bin/python -m pip install" in dockerfile
    again = tmp_path / "again"
    build_question(again, GRADED, job_timeout(60))
    assert files_of(again) == files_of(build)
    done = subprocess.run(["bash", "-n", str(tests / "run_grader")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def files_of(folder):
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_grading_options_given_to_build_are_baked_in(tmp_path, buggy):
    out = tmp_path / "options"
    done = subprocess.run([sys.executable, "-m", "autograder.prairielearn", "build", "--out", str(out), "--timeout",
                           "2", "--budget", "30", "--hidden-visibility", "hidden", "--image", "course/grader:1"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    question = out / "questions" / "batchnorm"
    last = (question / "tests" / "run_grader").read_text().rstrip().splitlines()[-1]
    assert last.endswith('--root "$ROOT" --assignment batchnorm --hidden-visibility hidden --timeout 2 --budget 30')
    info = json.loads((question / "info.json").read_text())["externalGradingOptions"]
    assert info["image"] == "course/grader:1" and info["timeout"] == job_timeout(30) < job_timeout(60)
    root = tmp_path / "grade"
    shutil.copytree(question / "tests", root / "tests")
    results, _ = grade_job(root, buggy)
    assert results["tests"][-1]["name"] == f"{sum(c.hidden for c in GRADED.checks)} hidden checks"


def test_the_build_never_replaces_a_folder_of_other_files(tmp_path):
    course = tmp_path / "my-course"
    (course / "questions").mkdir(parents=True)
    (course / "infoCourse.json").write_text("{}")
    with pytest.raises(NotAQuestionFolder, match="holds files of its own"):
        build_question(course, GRADED, job_timeout(60))
    assert (course / "infoCourse.json").read_text() == "{}"
    done = subprocess.run([sys.executable, "-m", "autograder.prairielearn", "build", "--out", str(course)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "holds files of its own" in done.stderr and "Traceback" not in done.stderr


def test_the_job_timeout_covers_the_budget_within_prairielearns_ceiling():
    assert job_timeout(60) > 60 and job_timeout(1) > 1
    assert job_timeout(10_000) == MAX_JOB_SECONDS


def test_make_clean_removes_the_build(tmp_path):
    shutil.copyfile(ROOT / "Makefile", tmp_path / "Makefile")
    (tmp_path / "prairielearn" / "batchnorm" / "image").mkdir(parents=True)
    (tmp_path / "prairielearn" / "batchnorm" / "image" / "Dockerfile").write_text("FROM x\n")
    done = subprocess.run(["make", "clean"], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert not (tmp_path / "prairielearn").exists()


def test_modules_in_two_folders_are_not_gradable_with_the_sentence_of_the_command_line(job):
    """intake.find_modules on PrairieLearn too: two folders with modules are one
    sentence, and not an attempt."""
    files = {f"{folder}/{name}": (SOLUTIONS / name).read_text() for folder in ("new", "old") for name in MODULES}
    results, _ = grade_job(job, files)
    assert results["gradable"] is False
    assert results["format_errors"] == [unfound(find_modules(job / "student", GRADED), GRADED)[2]]
    assert "'new' and 'old' both hold modules" in results["format_errors"][0]
