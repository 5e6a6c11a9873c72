"""What an instructor hands the grader: every layout found and named by student, unsafe
zips refused, bad paths refused before anything is written, and the output folder
(fresh each run, modes from the umask, readable progress and headers)."""
import csv
import io
import json
import os
import shutil
import stat
import subprocess
import sys
import types
import zipfile

import pytest

from autograder import intake
from autograder.classroom import Progress, grade_class, no_modules
from autograder.intake import Finder, UsageError
from autograder.reports.tables import class_table, grades_csv
from conftest import GRADED, RELEASE, ROOT, SOLUTIONS

MAX = sum(c.points for c in GRADED.checks)
MODULES = ("preprocessing.py", "initializers.py", "batchnorm.py")


def submission(folder, source=SOLUTIONS, notebook=True):
    """A small submission: the student modules of ``source`` and a notebook."""
    folder.mkdir(parents=True)
    for name in MODULES:
        shutil.copyfile(source / name, folder / name)
    if notebook:
        shutil.copyfile(source / "BatchNormalization.ipynb", folder / "BatchNormalization.ipynb")
    return folder


def notebook_only(folder):
    folder.mkdir(parents=True)
    shutil.copyfile(RELEASE / "BatchNormalization.ipynb", folder / "BatchNormalization.ipynb")
    shutil.copytree(RELEASE / "selfcheck", folder / "selfcheck")  # a subfolder, but no modules
    return folder


def found(*paths, assignment=GRADED):
    with Finder(assignment) as finder:
        return [(s.name, s.status) for s in finder.find(paths)]


def zip_folder(folder, target, prefix=""):
    with zipfile.ZipFile(target, "w") as archive:
        for path in sorted(folder.rglob("*")):
            archive.write(path, prefix + path.relative_to(folder).as_posix())
    return target


def test_a_submission_folder_is_one_row_named_by_the_student_not_the_assignment(tmp_path):
    submission(tmp_path / "alice")
    submission(tmp_path / "submitted" / "bob" / "batchnorm", RELEASE)
    with Finder(GRADED) as finder:
        [alice, bob] = finder.find([tmp_path / "alice", tmp_path / "submitted" / "bob" / "batchnorm"])
    assert (alice.name, alice.folder, alice.source) == ("alice", tmp_path / "alice", str(tmp_path / "alice"))
    assert (bob.name, bob.status) == ("bob", "graded")


def test_a_class_folder_is_a_row_per_student_folder(tmp_path):
    submission(tmp_path / "class" / "alice")
    submission(tmp_path / "class" / "bob", RELEASE)
    notebook_only(tmp_path / "class" / "carol")
    submission(tmp_path / "class" / "dave" / "my-upload" / "batchnorm")  # nested by a zip tool
    (tmp_path / "class" / ".ipynb_checkpoints").mkdir()
    assert found(tmp_path / "class") == [("alice", "graded"), ("bob", "graded"),
                                         ("carol", "no modules found"), ("dave", "graded")]


def test_nbgrader_submitted_rows_are_named_by_student_and_the_assignment_chosen(tmp_path):
    submitted = tmp_path / "submitted"
    submission(submitted / "alice" / "batchnorm")
    submission(submitted / "alice" / "hw2", RELEASE)
    submission(submitted / "bob" / "batchnorm", RELEASE)
    notebook_only(submitted / "carol" / "batchnorm")
    assert found(submitted) == [("alice", "graded"), ("bob", "graded"), ("carol", "no modules found")]
    with Finder(GRADED) as finder:
        assert finder.find([submitted])[0].folder == submitted / "alice" / "batchnorm"
        assert finder.find([submitted])[2].source == str(submitted / "carol" / "batchnorm")
    hw2 = types.SimpleNamespace(name="hw2", spec=GRADED.spec)  # graded with the same modules
    assert found(submitted, assignment=hw2) == [("alice", "graded"), ("bob", "no modules found"),
                                                  ("carol", "no modules found")]


GRADESCOPE_METADATA = """\
submission_101:
  :submitters:
  - :name: Alice Adams
    :sid: '1001'
    :email: alice@example.edu
  :created_at: 2026-03-01 12:00:00.000000000 -08:00
  :score: !ruby/object:BigDecimal 18:0.65e2
submission_102:
  :submitters:
  - :name: Bob Brown
    :sid:
    :email: bob@example.edu
  - :name: Cy Chen
    :sid: 1003
submission_103:
  :submitters: []
submission_104: oddly not a mapping
"""


def test_a_gradescope_export_is_named_from_its_metadata(tmp_path):
    export = tmp_path / "assignment_1_export"
    submission(export / "submission_101")
    submission(export / "submission_102" / "batchnorm", RELEASE)  # uploaded as a folder
    notebook_only(export / "submission_103")
    submission(export / "submission_104")
    submission(export / "submission_105")  # missing from the metadata
    (export / "submission_metadata.yml").write_text(GRADESCOPE_METADATA)
    with Finder(GRADED) as finder:
        rows = finder.find([export])
    assert [(s.name, s.status) for s in rows] == [
        ("1001", "graded"), ("Bob Brown+1003", "graded"), ("submission_103", "no modules found"),
        ("submission_104", "graded"), ("submission_105", "graded")]
    assert rows[0].students == ({"name": "Alice Adams", "sid": "1001", "email": "alice@example.edu"},)
    assert rows[1].folder == export / "submission_102" / "batchnorm"


def test_unreadable_gradescope_metadata_is_a_usage_error(tmp_path):
    submission(tmp_path / "export" / "submission_1")
    (tmp_path / "export" / "submission_metadata.yml").write_text("submission_1: [unclosed\n")
    with pytest.raises(UsageError, match="submission_metadata.yml is not readable Gradescope metadata"):
        found(tmp_path / "export")


def test_zips_of_a_submission_of_a_class_and_of_an_export_are_unpacked_and_named(tmp_path):
    submission(tmp_path / "alice" / "batchnorm")
    one = zip_folder(tmp_path / "alice", tmp_path / "alice.zip")
    submission(tmp_path / "class" / "bob")
    submission(tmp_path / "class" / "carol", RELEASE)
    whole = zip_folder(tmp_path / "class", tmp_path / "class.zip", prefix="class/")
    submission(tmp_path / "export" / "submission_7")
    (tmp_path / "export" / "submission_metadata.yml").write_text(
        "submission_7:\n  :submitters:\n  - :name: Dee\n    :sid: '7007'\n")
    export = zip_folder(tmp_path / "export", tmp_path / "export.zip", prefix="assignment_9_export/")
    with Finder(GRADED) as finder:
        rows = finder.find([one, whole, export])
        assert [(s.name, s.source) for s in rows] == [
            ("alice", f"{one}:batchnorm"), ("bob", f"{whole}:class/bob"), ("carol", f"{whole}:class/carol"),
            ("7007", f"{export}:assignment_9_export/submission_7")]
        assert all(intake.holds_modules(s.folder, GRADED) for s in rows)
        unpacked = rows[0].folder
        assert not (unpacked / "BatchNormalization.ipynb").exists()  # only what grading reads
        assert stat.S_IMODE(unpacked.parent.parent.stat().st_mode) == 0o700  # private
    assert not unpacked.exists()  # gone with the Finder


def test_a_class_of_zips_refuses_only_the_unsafe_one_also_inside_a_zip(tmp_path):
    submission(tmp_path / "work" / "alice")
    (tmp_path / "class").mkdir()
    zip_folder(tmp_path / "work" / "alice", tmp_path / "class" / "alice.zip")
    with zipfile.ZipFile(tmp_path / "class" / "mallory.zip", "w") as archive:
        archive.writestr("../preprocessing.py", "x = 1\n")
    whole = zip_folder(tmp_path / "class", tmp_path / "class.zip")
    with Finder(GRADED) as finder:
        rows = finder.find([tmp_path / "class", whole])
    assert [(s.name, s.status) for s in rows] == [("alice", "graded"), ("mallory", "zip refused")] * 2
    assert "mallory.zip was refused" in rows[1].reason and "'..'" in rows[1].reason
    assert rows[2].source == f"{whole}:alice.zip"
    assert not (tmp_path / "preprocessing.py").exists()


def link_entry(name, target):
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info, target


@pytest.mark.parametrize("entry, why", [
    (("../../escaped.py", "x = 1\n"), "climbs out with '..'"),
    (("batchnorm/../../escaped.py", "x = 1\n"), "climbs out with '..'"),
    (("/tmp/escaped.py", "x = 1\n"), "is an absolute path"),
    (("C:\\escaped.py", "x = 1\n"), "is an absolute path"),
    (link_entry("preprocessing.py", str(SOLUTIONS / "preprocessing.py")), "is a link"),
], ids=["dotdot", "nested-dotdot", "absolute", "drive", "symlink"])
def test_an_unsafe_zip_is_refused_whole_with_its_name(tmp_path, entry, why):
    bad = tmp_path / "upload.zip"
    with zipfile.ZipFile(bad, "w") as archive:
        archive.writestr("initializers.py", "x = 1\n")
        archive.writestr(*entry)
    with pytest.raises(UsageError) as refused:
        found(bad)
    assert str(bad) in str(refused.value) and why in str(refused.value)
    assert not list(tmp_path.rglob("escaped.py")) and not list(tmp_path.parent.rglob("escaped.py"))


def test_a_zip_too_large_or_with_too_many_entries_is_refused(tmp_path, monkeypatch):
    big = tmp_path / "big.zip"
    with zipfile.ZipFile(big, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("batchnorm.py", "#" * 5000)  # compresses to a few bytes
        archive.writestr("notes.txt", "not unpacked, but counted")
    monkeypatch.setattr(intake, "ZIP_MAX_TOTAL_BYTES", 4096)
    with pytest.raises(UsageError, match="big.zip was refused: it unpacks to more than"):
        found(big)
    monkeypatch.setattr(intake, "ZIP_MAX_TOTAL_BYTES", 1 << 20)
    monkeypatch.setattr(intake, "ZIP_MAX_ENTRIES", 1)
    with pytest.raises(UsageError, match="big.zip was refused: it has more than 1 entries"):
        found(big)


def test_links_are_never_followed_while_finding_submissions(tmp_path):
    submission(tmp_path / "elsewhere" / "eve")
    (tmp_path / "class").mkdir()
    submission(tmp_path / "class" / "alice")
    (tmp_path / "class" / "eve").symlink_to(tmp_path / "elsewhere" / "eve")
    linked = tmp_path / "class" / "zed"
    linked.mkdir()
    (linked / "batchnorm.py").symlink_to(SOLUTIONS / "batchnorm.py")
    (linked / "batchnorm").symlink_to(tmp_path / "elsewhere" / "eve")
    assert found(tmp_path / "class") == [("alice", "graded"), ("zed", "no modules found")]


def run_cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "autograder", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_a_missing_path_is_a_usage_error_and_nothing_is_written(tmp_path):
    submission(tmp_path / "alice")
    done = run_cli("grade", tmp_path / "alice", tmp_path / "alcie", "--out", tmp_path / "grades" / "latest")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"python -m autograder grade: error: {tmp_path / 'alcie'} does not exist."]
    assert done.stdout == "" and sorted(p.name for p in tmp_path.iterdir()) == ["alice"]


def test_an_unsafe_zip_on_the_command_line_is_a_usage_error(tmp_path):
    with zipfile.ZipFile(tmp_path / "class.zip", "w") as archive:
        archive.writestr("../x.py", "")
    done = run_cli("grade", tmp_path / "class.zip", "--out", tmp_path / "out")
    assert done.returncode == 2 and "class.zip was refused" in done.stderr and not (tmp_path / "out").exists()


def test_a_notebook_only_submission_is_graded_zero_with_a_status_a_warning_and_a_sentence(tmp_path):
    submission(tmp_path / "submitted" / "alice" / "batchnorm")
    notebook_only(tmp_path / "submitted" / "bob" / "batchnorm")
    out = tmp_path / "grades"
    done = run_cli("grade", tmp_path / "submitted", "--out", out)
    assert done.returncode == 0, done.stderr
    assert f"warning: bob ({tmp_path / 'submitted' / 'bob' / 'batchnorm'}) holds no student module" in done.stderr
    rows = list(csv.DictReader((out / "grades.csv").open()))
    assert [(r["submission"], r["status"], r["total"]) for r in rows] == [
        ("alice", "graded", f"{MAX:g}"), ("bob", "no modules found", "0")]
    assert rows[1]["source"] == str(tmp_path / "submitted" / "bob" / "batchnorm")
    assert no_modules(GRADED) in (out / "bob.md").read_text()
    summary = json.loads((out / "summary.json").read_text())["submissions"]
    assert [(s["name"], s["status"], s["source"]) for s in summary] == [
        (r["submission"], r["status"], r["source"]) for r in rows]


def test_each_run_replaces_the_output_folder_so_no_stale_file_survives(tmp_path):
    alice, bob = submission(tmp_path / "alice", notebook=False), notebook_only(tmp_path / "bob")
    out = tmp_path / "out"
    grade_class([alice, bob], out=out, progress=False)
    assert (out / "bob.json").exists()
    grade_class([alice], out=out, progress=False)
    assert sorted(p.name for p in out.iterdir()) == [
        "alice.json", "alice.md", "grades.csv", "report.html", "summary.json", "table.txt"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no staging left


def test_an_output_folder_that_is_not_the_graders_is_never_replaced(tmp_path):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "thesis.tex").write_text("years of work")
    with pytest.raises(UsageError, match="not an earlier run's results"):
        grade_class([submission(tmp_path / "alice", notebook=False)], out=tmp_path / "notes", progress=False)
    assert (tmp_path / "notes" / "thesis.tex").read_text() == "years of work"


@pytest.fixture
def umask():
    saved = os.umask(0o022)
    yield lambda mask: os.umask(mask)
    os.umask(saved)


@pytest.mark.parametrize("mask", [0o022, 0o077, 0o002])
def test_output_files_and_folder_follow_the_umask(tmp_path, umask, mask):
    umask(mask)
    out = tmp_path / "out"
    grade_class([notebook_only(tmp_path / "bob")], out=out, progress=False)
    assert stat.S_IMODE(out.stat().st_mode) == 0o777 & ~mask
    assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in out.iterdir()} == {
        p.name: 0o666 & ~mask for p in out.iterdir()}


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_is_plain_lines_off_a_terminal_and_a_bar_on_one(tmp_path):
    results = grade_class([notebook_only(tmp_path / "a"), notebook_only(tmp_path / "b")], progress=False)
    log, terminal = io.StringIO(), Terminal()
    for stream in (log, terminal):
        progress = Progress(2, stream)
        for result in results:
            progress.step(result)
    assert log.getvalue() == f"graded 1/2 a 0/{MAX:g}\ngraded 2/2 b 0/{MAX:g}\n"
    assert terminal.getvalue().count("\r") == 2 and "2/2" in terminal.getvalue()


def test_table_headers_are_unique_and_uncut(tmp_path):
    [result] = grade_class([notebook_only(tmp_path / "a")], progress=False)
    head, _, row, legend = class_table([result]).splitlines()
    labels = head.split()
    assert labels == ["submission", "preprocessing", "initializers", "forward", "backward", "backward_alt", "total"]
    assert len(row.split()) == len(labels)
    assert legend == ("(forward = batchnorm_forward; backward = batchnorm_backward; "
                      "backward_alt = batchnorm_backward_alt)")
    assert grades_csv([result], ["x"]).splitlines()[0].split(",") == [
        "submission", "status", "preprocessing", "initializers", "batchnorm_forward", "batchnorm_backward",
        "batchnorm_backward_alt", "total", "max_total", "source"]


def test_make_clean_removes_only_what_is_regenerable(tmp_path):
    shutil.copyfile(ROOT / "Makefile", tmp_path / "Makefile")
    kept = ["submitted/alice/batchnorm/batchnorm.py", "autograded/alice/x.ipynb", "feedback/alice/x.html",
            "gradebook.db", "release/batchnorm/batchnorm.py", "solutions/batchnorm/batchnorm.py"]
    removed = ["grades/latest/grades.csv", ".build/demo/x.py", "autograder.zip",
               "solutions/batchnorm/executed/x.ipynb"]
    for name in kept + removed:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    done = subprocess.run(["make", "clean"], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert [n for n in kept if not (tmp_path / n).exists()] == []
    assert [n for n in removed if (tmp_path / n).exists()] == []
