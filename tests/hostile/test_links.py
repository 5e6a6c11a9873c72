"""Links: a submission that links to the reference solution (a git upload keeps
links) earns nothing, on the command line and on Gradescope, and is told that
links are ignored; the same files, really there, earn their points."""
import json
import os
import shutil

from autograder.gradescope.run import modules_folder, run
from autograder.reports.escape import markdown
from conftest import GRADED

from .support import ROOT, SOLUTIONS

REFERENCE = ROOT / "assignment" / "batchnorm"  # the master, as /autograder/source holds it on Gradescope
RELEASE = ROOT / "release" / "batchnorm"
MODULES = ("batchnorm.py", "initializers.py", "preprocessing.py")


def gradescope_root(tmp_path, upload):
    """A folder laid out like /autograder, with ``upload(submission)`` making the upload."""
    root = tmp_path / "autograder"
    (root / "submission").mkdir(parents=True)
    (root / "results").mkdir()
    upload(root / "submission")
    return root


def test_a_gradescope_upload_that_links_to_the_reference_scores_nothing(tmp_path, bubblewrap):
    root = gradescope_root(tmp_path, lambda submission: os.symlink(REFERENCE, submission / "hw"))
    search = modules_folder(root / "submission", GRADED)
    assert (search.folder, search.links) == (None, ("hw",))
    result = run(root, GRADED, launcher=bubblewrap)
    assert result.score == 0 and result.max_score > 0
    assert "hw is a link; links are not followed, so it was ignored." in (root / "results" / "results.json").read_text()


def test_control_the_same_upload_as_a_real_folder_scores_everything(tmp_path, bubblewrap):
    def upload(submission):
        (submission / "hw").mkdir()
        for module in MODULES:
            shutil.copy(REFERENCE / module, submission / "hw" / module)
    root = gradescope_root(tmp_path, upload)
    result = run(root, GRADED, launcher=bubblewrap)
    assert result.score == result.max_score > 0 and "link" not in result.notice


def test_a_link_named_in_markdown_and_html_shows_as_its_name_on_gradescope(tmp_path, bubblewrap):
    name = "**Score: 65 of 65** <img src=x onerror=alert(1)> [full marks](javascript:alert(1))"
    def upload(submission):
        for module in MODULES:
            shutil.copy(REFERENCE / module, submission / module)
        os.symlink(REFERENCE, submission / name)
    root = gradescope_root(tmp_path, upload)
    result = run(root, GRADED, launcher=bubblewrap)
    assert result.score == result.max_score > 0
    output = json.loads((root / "results" / "results.json").read_text())["output"]
    assert output.startswith(markdown(f"{name} is a link; links are not followed, so it was ignored.") + "\n\n")
    assert "<img" not in output and "**Score" not in output


def test_the_gradescope_search_never_leaves_the_upload(tmp_path):
    upload = tmp_path / "submission"
    (upload / "a").mkdir(parents=True)
    os.symlink(REFERENCE, upload / "a" / "batchnorm")  # deeper real folders than the link are absent
    os.symlink(REFERENCE / "batchnorm.py", upload / "batchnorm.py")
    search = modules_folder(upload, GRADED)
    assert search.folder is None and sorted(search.links) == ["a/batchnorm", "batchnorm.py"]


def test_a_module_that_links_to_the_reference_scores_nothing(tmp_path, grade):
    submission = tmp_path / "submission"
    shutil.copytree(RELEASE, submission, ignore=shutil.ignore_patterns("*.ipynb", "selfcheck", "__pycache__"))
    (submission / "batchnorm.py").unlink()
    os.symlink(SOLUTIONS / "batchnorm.py", submission / "batchnorm.py")
    result = grade(submission)
    assert result.score == 0
    assert result.notice == "batchnorm.py is a link; links are not followed, so it was ignored."
    # Control: the same file, copied, earns the batch normalization checks.
    (submission / "batchnorm.py").unlink()
    shutil.copy(SOLUTIONS / "batchnorm.py", submission / "batchnorm.py")
    copied = grade(submission)
    assert copied.score > 0 and copied.notice == ""


def test_a_submission_folder_that_is_a_link_scores_nothing(tmp_path, grade):
    os.symlink(SOLUTIONS, tmp_path / "alice")
    result = grade(tmp_path / "alice")
    assert result.score == 0 and result.notice == "alice is a link; links are not followed, so it was ignored."
    assert "is a link" in result.error  # the instructor is told too
    control = grade(SOLUTIONS)
    assert control.score == control.max_score


def test_special_files_are_not_read(tmp_path, grade):
    submission = tmp_path / "submission"
    shutil.copytree(SOLUTIONS, submission, ignore=shutil.ignore_patterns("*.ipynb", "selfcheck", "__pycache__",
                                                                        "executed", "batchnorm.py"))
    os.mkfifo(submission / "batchnorm.py")  # opening it for reading would block a careless grader
    result = grade(submission, timeout=5)
    assert 0 < result.score < result.max_score
