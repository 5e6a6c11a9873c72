"""The Gradescope bundle, unpacked into a folder laid out like /autograder and run
as Gradescope runs it, grades exactly as ``python -m autograder grade`` does."""
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from autograder import sandbox
from autograder.gradescope.bundle import FIXED_TIME, build_bundle, pinned_requirements
from autograder.gradescope.run import modules_folder
from autograder.misconceptions import apply
from conftest import GRADED

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions" / "batchnorm"
RELEASE = ROOT / "release" / "batchnorm"
VISIBILITY = "after_due_date"
OPTIONS = ["--hidden-visibility", VISIBILITY]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return build_bundle(tmp_path_factory.mktemp("bundle") / "autograder.zip", GRADED, OPTIONS)


@pytest.fixture(scope="module")
def autograder_root(bundle, tmp_path_factory):
    return unpack(bundle, tmp_path_factory.mktemp("autograder"))


@pytest.fixture(scope="module")
def buggy(tmp_path_factory):
    mistake = next(m for m in GRADED.catalogue if m.id == "bn-unbiased-variance")
    folder = tmp_path_factory.mktemp("buggy") / mistake.id
    shutil.copytree(SOLUTIONS, folder, ignore=shutil.ignore_patterns("__pycache__", "executed"))
    module = folder / f"{GRADED.module_of(mistake.function)}.py"
    module.write_text(apply(mistake, module.read_text(), "batchnorm"))
    return folder


def unpack(bundle, root):
    """The bundle as Gradescope lays it out: unpacked in source/, run_autograder
    copied to the root (setup.sh is not run: the current venv stands in for it)."""
    with zipfile.ZipFile(bundle) as archive:
        for info in archive.infolist():
            path = Path(archive.extract(info, root / "source"))
            path.chmod(info.external_attr >> 16 & 0o777)
    shutil.copy2(root / "source" / "run_autograder", root / "run_autograder")
    return root


def run_autograder(root, submission):
    """Put ``submission`` in root/submission and run root/run_autograder."""
    shutil.rmtree(root / "submission", ignore_errors=True)
    shutil.rmtree(root / "results", ignore_errors=True)
    shutil.copytree(submission, root / "submission")
    (root / "results").mkdir()
    env = dict(os.environ, AUTOGRADER_ROOT=str(root), AUTOGRADER_PYTHON=sys.executable)
    done = subprocess.run([str(root / "run_autograder")], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads((root / "results" / "results.json").read_text()), done.stdout


def cli_results(submission, tmp_path, options=OPTIONS):
    target = tmp_path / "cli.json"
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", str(submission), "--json", str(target),
                           *options], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(target.read_text())


def without_time(results):
    return {k: v for k, v in results.items() if k != "execution_time"}


@pytest.mark.parametrize("which", ["solution", "stubs", "buggy"])
def test_bundle_grades_like_the_command_line(which, autograder_root, buggy, tmp_path):
    submission = {"solution": SOLUTIONS, "stubs": RELEASE, "buggy": buggy}[which]
    results, stdout = run_autograder(autograder_root, submission)
    # The bundle's own copy of the grader ran, not the repository's.
    assert f"with the autograder in {autograder_root / 'source' / 'autograder'}" in stdout
    assert without_time(results) == without_time(cli_results(submission, tmp_path))
    max_score = sum(t["max_score"] for t in results["tests"])
    if which == "solution":
        assert results["score"] == max_score > 0
    elif which == "stubs":
        assert results["score"] == 0
    else:
        assert 0 < results["score"] < max_score
        assert any("Likely misconception: your batch variance is the unbiased one" in t["output"]
                   for t in results["tests"])


def test_hidden_checks_get_the_baked_visibility(autograder_root, buggy):
    results, _ = run_autograder(autograder_root, buggy)
    public_names = {c.name for c in GRADED.public_checks}
    visibility = {t["name"]: t["visibility"] for t in results["tests"]}
    assert public_names and public_names < set(visibility)
    assert {visibility[n] for n in public_names} == {"visible"}
    assert {v for n, v in visibility.items() if n not in public_names} == {VISIBILITY}


def test_results_are_markdown_and_the_first_sentence_tells_no_hidden_score(autograder_root, buggy):
    """Every output is Gradescope's md; the top-level sentence, which students see
    at once, scores only the checks visible now (the baked visibility hides the
    others until the due date)."""
    results, _ = run_autograder(autograder_root, buggy)
    assert (results["output_format"], results["test_output_format"]) == ("md", "md")
    assert {t["output_format"] for t in results["tests"]} == {"md"}
    visible = [t for t in results["tests"] if t["visibility"] == "visible"]
    later = [t for t in results["tests"] if t["visibility"] != "visible"]
    assert visible and later and {t["visibility"] for t in later} == {VISIBILITY}
    score = sum(t["score"] for t in visible)
    assert score != results["score"]  # the hidden checks would change it
    assert results["output"] == (
        f"{score:g} of {sum(t['max_score'] for t in visible):g} points from {len(visible)} checks of your modules. "
        f"{len(later)} more checks, worth {sum(t['max_score'] for t in later):g} points, are graded too; their results "
        "are not shown yet. Each test below says what it tried and, when it failed, what came back and why.")
    failed = next(t for t in results["tests"] if t["status"] == "failed")
    assert failed["output"].startswith("    ") and "\n\n" not in failed["output"].replace("\n\n    ", "")


def test_feedback_never_shows_the_reference_source(autograder_root, buggy):
    results, _ = run_autograder(autograder_root, buggy)
    outputs = "\n".join(t["output"] for t in results["tests"]) + results["output"]
    master = (ROOT / "assignment" / "batchnorm" / "batchnorm.py").read_text()
    solution_lines = {line.strip() for block in re.findall(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", master, re.S)
                      for line in block.splitlines() if len(line.strip()) > 15}
    assert solution_lines
    assert not [line for line in solution_lines if line in outputs]


def test_modules_uploaded_inside_a_folder_are_found(autograder_root, tmp_path):
    upload = tmp_path / "upload"
    shutil.copytree(SOLUTIONS, upload / "my-work" / "batchnorm",
                    ignore=shutil.ignore_patterns("__pycache__", "executed"))
    (upload / "__MACOSX" / "batchnorm").mkdir(parents=True)
    (upload / "__MACOSX" / "batchnorm" / "batchnorm.py").write_text("junk")
    assert modules_folder(upload, GRADED).folder == upload / "my-work" / "batchnorm"
    results, _ = run_autograder(autograder_root, upload)
    assert results["score"] == sum(t["max_score"] for t in results["tests"]) > 0


def test_bundle_is_byte_identical_and_laid_out_for_gradescope(bundle, tmp_path):
    again = build_bundle(tmp_path / "again.zip", GRADED, OPTIONS)
    assert again.read_bytes() == bundle.read_bytes()
    with zipfile.ZipFile(bundle) as archive:
        infos = {i.filename: i for i in archive.infolist()}
        assert {"setup.sh", "run_autograder", "requirements.txt", "autograder/grade.py",
                "assignment/batchnorm/batchnorm.py", "assignment/batchnorm/grading/public/expected.json",
                "assignment/batchnorm/grading/hidden/forward.py", "autograder/kit/runner/child.py"} <= set(infos)
        assert not [n for n in infos if "__pycache__" in n or n.endswith(".pyc") or n.endswith(".ipynb")]
        assert {i.date_time for i in infos.values()} == {FIXED_TIME}
        modes = {n: i.external_attr >> 16 for n, i in infos.items()}
        assert modes["setup.sh"] & stat.S_IXUSR and modes["run_autograder"] & stat.S_IXUSR
        assert not modes["autograder/grade.py"] & stat.S_IXUSR
        assert archive.read("requirements.txt").decode() == pinned_requirements()
        assert f"--hidden-visibility {VISIBILITY}" in archive.read("run_autograder").decode()
        assert b"bubblewrap" in archive.read("setup.sh")
    pins = (ROOT / "requirements.txt").read_text().splitlines()
    numpy_pin = next(line for line in pins if line.startswith("numpy=="))
    assert pinned_requirements() == numpy_pin + "\n"


def test_an_unpinned_grading_package_is_an_error(tmp_path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("numpy>=2\nscipy==1.0\n")
    with pytest.raises(ValueError, match="pins no version of numpy"):
        pinned_requirements(requirements)


def test_student_uid_can_read_the_runner_but_not_the_reference_or_hidden_checks(autograder_root, buggy):
    run_autograder(autograder_root, buggy)
    source = autograder_root / "source"
    master = source / "assignment" / "batchnorm"
    locked = [source / "assignment", master / "grading" / "hidden" / "forward.py", source / "autograder" / "grade.py",
              *[master / f"{m}.py" for m in ("batchnorm", "preprocessing", "initializers")]]
    assert [p for p in locked if p.stat().st_mode & 0o077] == []
    runner = source / "autograder" / "kit" / "runner"
    assert runner.stat().st_mode & 0o005 == 0o005 and (runner / "child.py").stat().st_mode & 0o004
    passages = (autograder_root, source, source / "autograder", source / "autograder" / "kit")
    assert all(p.stat().st_mode & 0o007 == 0o001 for p in passages[2:]), "the grader's folders are listable"
    assert all(p.stat().st_mode & 0o001 for p in passages)


def test_setup_script_is_valid_bash(bundle, tmp_path):
    with zipfile.ZipFile(bundle) as archive:
        (tmp_path / "setup.sh").write_bytes(archive.read("setup.sh"))
    done = subprocess.run(["bash", "-n", str(tmp_path / "setup.sh")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_grading_options_given_to_build_are_baked_in(buggy, tmp_path):
    # The fallback where it can run here (as root, only where other users can reach Python).
    try:
        sandbox.LimitsLauncher()
        mode, named = "limits", "own process group"
    except sandbox.SandboxUnavailable:
        mode, named = "bubblewrap", "PID namespace"
    bundle = tmp_path / "options.zip"
    options = ["--timeout", "2", "--budget", "30", "--sandbox", mode, "--memory", "1"]
    done = subprocess.run([sys.executable, "-m", "autograder.gradescope", "build", "--out", str(bundle),
                           *options, "--hidden-visibility", "visible"], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(bundle) as archive:
        last = archive.read("run_autograder").decode().rstrip().splitlines()[-1]
    assert last.endswith(f'--root "$ROOT" --assignment batchnorm --hidden-visibility visible --timeout 2 --budget 30 '
                         f'--sandbox {mode} --memory 1')
    results, log = run_autograder(unpack(bundle, tmp_path / "autograder"), buggy)
    # The sandbox's details go to the instructor's log; the student reads about their work.
    assert named in log and "memory limit 1 GiB" in log and "memory limit" not in results["output"]
    assert results["output"].startswith(f"{results['score']:g} of {sum(c.points for c in GRADED.checks):g} points from")
    cli = cli_results(buggy, tmp_path, options + ["--hidden-visibility", "visible"])
    assert without_time(results) == without_time(cli)


def test_grading_on_gradescope_needs_numpy_alone(tmp_path):
    """Gradescope's image has the pinned numpy and none of the course's other tools."""
    root = tmp_path / "autograder"
    shutil.copytree(SOLUTIONS, root / "submission", ignore=shutil.ignore_patterns("__pycache__", "executed"))
    (root / "results").mkdir()
    absent = ("yaml", "matplotlib", "nbformat", "nbgrader", "nbclient", "sklearn", "scipy", "jupyter_core", "pytest")
    code = (f"import runpy, sys\nsys.modules.update(dict.fromkeys({absent!r}))\n"
            f"sys.argv = ['run', 'run', '--root', {str(root)!r}]\n"
            "runpy.run_module('autograder.gradescope', run_name='__main__')")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    assert results["score"] == sum(t["max_score"] for t in results["tests"]) > 0


@pytest.mark.parametrize("layout", ["two folders", "four folders down", "no module"])
def test_an_upload_scores_as_on_the_command_line_with_one_sentence(layout, autograder_root, tmp_path):
    """The one rule (intake.find_modules) on Gradescope and the command line: the same
    score, and the reason said in full once, not in every test."""
    upload = tmp_path / "upload"
    folders = {"two folders": [("new", SOLUTIONS), ("old", RELEASE)],
               "four folders down": [("w/x/y/z", SOLUTIONS)], "no module": []}[layout]
    upload.mkdir()
    (upload / "notes.py").write_text("x = 1\n")
    for folder, source in folders:
        (upload / folder).mkdir(parents=True)
        for name in GRADED.spec.modules:
            shutil.copy(source / name, upload / folder / name)
    results, _ = run_autograder(autograder_root, upload)
    export = tmp_path / "export"  # the same upload in Gradescope's export, graded by the command line
    shutil.copytree(upload, export / "submission_1")
    (export / "submission_metadata.yml").write_text("submission_1:\n  :submitters:\n  - :sid: '7'\n")
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", str(export), "--out", str(tmp_path / "out")],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == (layout != "two folders"), done.stderr  # 1: not one holds a module anywhere
    assert results["score"] == json.loads((tmp_path / "out" / "7.json").read_text())["score"] == 0
    sentence = "cannot tell which one you meant" if layout == "two folders" else "No student module"
    assert sentence in results["output"]
    assert [sentence in t["output"] for t in results["tests"]] == [True] + [False] * (len(results["tests"]) - 1)
