"""What an instructor hands the grader: every layout found and named by student, unsafe
zips refused, bad paths refused before anything is written, and the output folder
(fresh each run, modes from the umask, readable progress and headers)."""
import csv
import io
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import time
import types
import zipfile
from pathlib import Path

import pytest

from autograder import intake
from autograder.assignments import load
from autograder.classroom import Progress, grade_class, unique_names
from autograder.intake import Finder, UsageError, no_modules
from autograder.reports.files import fresh_folder
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
    hw2 = types.SimpleNamespace(name="hw2", spec=GRADED.spec, course=GRADED.course)  # the same modules
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
    assert rows[1].reason == rows[3].reason == "its entry '../preprocessing.py' climbs out of the zip with '..'"
    assert (rows[1].source, rows[3].source) == (str(tmp_path / "class" / "mallory.zip"), f"{whole}:mallory.zip")
    assert rows[2].source == f"{whole}:alice.zip"
    assert not (tmp_path / "preprocessing.py").exists()


def link_entry(name, target):
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info, target


@pytest.mark.parametrize("entry, why", [
    (("../../escaped.py", "x = 1\n"), "climbs out of the zip with '..'"),
    (("batchnorm/../../escaped.py", "x = 1\n"), "climbs out of the zip with '..'"),
    (("/tmp/escaped.py", "x = 1\n"), "is an absolute path"),
    (("C:\\escaped.py", "x = 1\n"), "is an absolute path"),
    (link_entry("preprocessing.py", str(SOLUTIONS / "preprocessing.py")), "is a link"),
], ids=["dotdot", "nested-dotdot", "absolute", "drive", "symlink"])
def test_an_unsafe_zip_is_refused_whole_with_its_name(tmp_path, entry, why):
    bad = tmp_path / "upload.zip"
    with zipfile.ZipFile(bad, "w") as archive:
        archive.writestr("initializers.py", "x = 1\n")
        archive.writestr(*entry)
    with Finder(GRADED) as finder:
        [row] = finder.find([bad])
    assert (row.name, row.status, row.source) == ("upload", "zip refused", str(bad))
    assert row.reason == f"its entry {entry[0] if isinstance(entry[0], str) else entry[0].filename!r} {why}"
    assert not list(tmp_path.rglob("escaped.py")) and not list(tmp_path.parent.rglob("escaped.py"))


def test_a_link_that_grading_never_reads_costs_nothing(tmp_path):
    upload = tmp_path / "upload.zip"
    with zipfile.ZipFile(upload, "w") as archive:
        for module in MODULES:
            archive.write(SOLUTIONS / module, f"hw/{module}")
        archive.writestr(*link_entry("hw/.venv/bin/python", "/usr/bin/python3"))  # a zipped virtualenv
        archive.writestr(*link_entry("hw/data", "/data/cifar10"))
    with Finder(GRADED) as finder:
        [row] = finder.find([upload])
        assert (row.status, sorted(p.name for p in row.folder.iterdir())) == ("graded", sorted(MODULES))


def test_a_zip_over_its_budget_is_refused_before_anything_is_written(tmp_path, monkeypatch):
    big = tmp_path / "big.zip"
    with zipfile.ZipFile(big, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("batchnorm.py", "#" * 5000)
        archive.writestr("sub/batchnorm.py", "#" * 5000)
        archive.writestr("notes.txt", "not unpacked, but counted")
    for limits, why in [(intake.ZipLimits(bytes=8000), "it would unpack more than 8000 bytes"),
                        (intake.ZipLimits(entries=2), "it has more than 2 entries"),
                        (intake.ZipLimits(files=1), "it would unpack more than 1 files"),
                        (intake.ZipLimits(folders=0), "it would unpack more than 0 folders")]:
        made = []
        monkeypatch.setattr(intake, "_create", lambda path, made=made: made.append(path))
        with Finder(GRADED, limits) as finder, pytest.raises(UsageError) as refused:
            finder.find([big])
        assert str(refused.value) == f"{big} was refused: {why}" and made == []


def zipped_modules(target, prefix="", **options):
    """A student's zip of the reference modules."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, **options) as archive:
        for module in MODULES:
            archive.write(SOLUTIONS / module, prefix + module)
    return target


def rewritten(target, edit):
    """The zip at ``target`` with its bytes changed by ``edit(bytearray)``."""
    data = bytearray(target.read_bytes())
    edit(data)
    target.write_bytes(bytes(data))
    return target


def flag_fields(data, name):
    """Where the fields of the entry ``name`` start (its flags, then method, time,
    date, CRC), in its local header and in the zip's directory."""
    found = []
    for signature, name_at, flags_at in ((b"PK\x03\x04", 30, 6), (b"PK\x01\x02", 46, 8)):
        start = data.find(signature)
        while start >= 0:
            if data[start + name_at:start + name_at + len(name)] == name.encode():
                found.append(start + flags_at)
            start = data.find(signature, start + 4)
    return found


def set_field(data, name, offset, edit):
    for at in flag_fields(data, name):
        data[at + offset:at + offset + 2] = edit(int.from_bytes(data[at + offset:at + offset + 2], "little")).to_bytes(
            2, "little")


def not_utf8_though_flagged(target):
    """The zip's directory says its names are UTF-8; one is not."""
    def edit(data):
        set_field(data, "batchnorm.py", 0, lambda flags: flags | 0x800)
        central = data.index(b"batchnorm.py", data.index(b"PK\x01\x02"))
        data[central:central + 2] = b"\xff\xfe"
    return rewritten(zipped_modules(target), edit)


def corrupt_deflate(target):
    """batchnorm.py's deflate stream starts with a reserved block type."""
    def edit(data):
        local = flag_fields(data, "batchnorm.py")[0] - 6
        data[local + 30 + len("batchnorm.py") + int.from_bytes(data[local + 28:local + 30], "little")] = 0xFF
    return rewritten(zipped_modules(target), edit)


def bad_crc(target):
    return rewritten(zipped_modules(target), lambda data: set_field(data, "batchnorm.py", 8, lambda crc: crc ^ 0xFFFF))


def encrypted(target):
    return rewritten(zipped_modules(target), lambda data: set_field(data, "batchnorm.py", 0, lambda flags: flags | 1))


def unknown_compression(target):
    return rewritten(zipped_modules(target), lambda data: set_field(data, "batchnorm.py", 2, lambda method: 9))


def truncated(target):
    zipped_modules(target)
    target.write_bytes(target.read_bytes()[:2000])
    return target


def not_a_zip(target):
    target.write_text("these are my answers")
    return target


def zeros_bomb(target):
    """32 zero-filled 16 MiB modules in 500 KB: 512 MiB if unpacked."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        zeros = bytes(16 << 20)
        for i in range(32):
            archive.writestr(f"m{i}/batchnorm.py", zeros)
    return target


def deep_folders(target):
    """20,000 entries eleven folders deep in 2.7 MB: 220,001 folders if unpacked."""
    with zipfile.ZipFile(target, "w") as archive:
        for i in range(20_000):
            archive.writestr(f"d{i}/" + "/".join("abcdefghij") + "/x.txt", "")
    return target


def twice(target):
    zipped_modules(target)
    with zipfile.ZipFile(target, "a") as archive, pytest.warns(UserWarning, match="Duplicate name"):
        archive.writestr("batchnorm.py", "def batchnorm_forward(*args):\n    return 0\n")
    return target


def linked_module(target):
    with zipfile.ZipFile(target, "w") as archive:
        archive.write(SOLUTIONS / "preprocessing.py", "preprocessing.py")
        archive.writestr(*link_entry("batchnorm.py", str(SOLUTIONS / "batchnorm.py")))
    return target


BAD_ZIPS = {
    not_utf8_though_flagged: "its file names are not valid UTF-8, although the zip says they are",
    corrupt_deflate: "its entry 'batchnorm.py' is damaged (error: Error -3 while decompressing data: "
                     "invalid block type)",
    bad_crc: "its entry 'batchnorm.py' is damaged (BadZipFile: Bad CRC-32 for file 'batchnorm.py')",
    encrypted: "its entry 'batchnorm.py' is encrypted, and the grader has no password",
    unknown_compression: "its entry 'batchnorm.py' is damaged (NotImplementedError: That compression method "
                         "is not supported)",
    truncated: "it is not a zip file that can be read (BadZipFile: File is not a zip file)",
    not_a_zip: "it is not a zip file that can be read (BadZipFile: File is not a zip file)",
    zeros_bomb: "its entry 'm0/batchnorm.py' would unpack to more than 100 times its compressed size, "
                "as a zip bomb does",
    deep_folders: "it would unpack more than 10000 folders",
    twice: "its entry 'batchnorm.py' appears twice in the zip",
    linked_module: "its entry 'batchnorm.py' is a link",
}


@pytest.fixture(scope="module")
def class_of_bad_zips(tmp_path_factory):
    """A class folder: each bad zip of BAD_ZIPS, with honest zips and a folder around them."""
    folder = tmp_path_factory.mktemp("bad-zips") / "class"
    submission(folder / "alice", notebook=False)
    zipped_modules(folder / "aaron.zip", prefix="aaron/")
    for make in BAD_ZIPS:
        make(folder / f"{make.__name__}.zip")
    zipped_modules(folder / "zoe.zip")
    return folder


def test_every_kind_of_bad_zip_costs_only_its_student_with_a_sentence(class_of_bad_zips):
    with Finder(GRADED) as finder:
        rows = {row.name: row for row in finder.find([class_of_bad_zips])}
        honest = [rows.pop(name) for name in ("alice", "aaron", "zoe")]
        assert [row.status for row in honest] == ["graded"] * 3
        assert all(sorted(p.name for p in row.folder.iterdir() if p.suffix == ".py") == sorted(MODULES)
                   for row in honest)
    assert {name: (row.status, row.reason) for name, row in rows.items()} == {
        make.__name__: ("zip refused", why) for make, why in BAD_ZIPS.items()}
    assert all(row.source == str(class_of_bad_zips / f"{row.name}.zip") for row in rows.values())


def test_a_class_with_bad_names_and_bad_zips_is_graded_whole(class_of_bad_zips, tmp_path):
    """The command line, with two jobs: every honest student keeps full marks, every
    bad one is refused with its sentence, every file is written, the run exits 0."""
    folder = tmp_path / "class"
    shutil.copytree(class_of_bad_zips, folder)
    submission(folder / ("x" * 251), notebook=False)  # the longest name most file systems allow, almost
    submission(Path(os.fsdecode(bytes(folder) + b"/caf\xe9")), notebook=False)  # not UTF-8
    out = tmp_path / "out"
    done = run_cli("grade", folder, "--out", out, "--jobs", "2")
    assert done.returncode == 0, done.stderr
    rows = {row["submission"]: row for row in csv.DictReader((out / "grades.csv").open(encoding="utf-8"))}
    [long_name, cafe] = unique_names(["x" * 251, "caf\ufffd"])
    assert {name: row["total"] for name, row in rows.items() if row["status"] == "graded"} == {
        name: f"{MAX:g}" for name in ("alice", "aaron", "zoe", cafe, long_name)}
    assert cafe.startswith("caf-") and rows[cafe]["source"] == f"{folder}/caf\ufffd"
    for make, why in BAD_ZIPS.items():
        assert (rows[make.__name__]["status"], rows[make.__name__]["total"]) == (f"zip refused: {why}", "0")
        assert f"was refused, because {why}." in (out / f"{make.__name__}.md").read_text()
        assert f"warning: {make.__name__} graded 0: {folder / make.__name__}.zip was refused: {why}" in done.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [f"{name}.{ext}" for name in rows for ext in ("json", "md")]
        + ["grades.csv", "report.html", "summary.json", "table.txt"])
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_each_zip_has_a_budget_of_its_own(tmp_path):
    """Two zips each within the budget are both unpacked, whatever the other took;
    a zip over it is refused alone."""
    folder = tmp_path / "class"
    folder.mkdir()
    for name in ("ann", "ben"):
        zipped_modules(folder / f"{name}.zip")
    with zipfile.ZipFile(folder / "cal.zip", "w") as archive:
        for module in MODULES:
            archive.write(SOLUTIONS / module, module)
        archive.writestr("initializers_notes.py", "#" * 60_000)
    size = sum((SOLUTIONS / module).stat().st_size for module in MODULES)
    with Finder(GRADED, intake.ZipLimits(bytes=size + 1000)) as finder:
        assert [(row.name, row.status) for row in finder.find([folder])] == [
            ("ann", "graded"), ("ben", "graded"), ("cal", "zip refused")]


def test_only_what_grading_reads_is_unpacked(tmp_path):
    upload = tmp_path / "upload.zip"
    with zipfile.ZipFile(upload, "w") as archive:
        for module in (*MODULES, "gradient_check.py", "BatchNormalization.ipynb", "selfcheck/__main__.py",
                       "selfcheck/report.py"):
            archive.write(RELEASE / module, f"hw/{module}")
        archive.writestr("hw/data/batch.npy", bytes(1000))
        archive.writestr("hw/notes/helper.py", "x = 1\n")  # no module beside it: never imported
        archive.writestr("__MACOSX/hw/._batchnorm.py", "junk")
        archive.writestr("hw/.git/config", "[core]")
    with Finder(GRADED) as finder:
        [row] = finder.find([upload])
        root = row.folder.parent
        assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*")) == [
            "hw", *sorted(f"hw/{name}" for name in (*MODULES, "data", "gradient_check.py", "notes", "selfcheck"))]


def test_a_module_too_large_to_grade_is_not_unpacked_past_its_limit(tmp_path):
    upload = tmp_path / "upload.zip"
    with zipfile.ZipFile(upload, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(SOLUTIONS / "preprocessing.py", "preprocessing.py")
        archive.writestr("batchnorm.py", os.urandom(3 << 20))
    with Finder(GRADED) as finder:
        [row] = finder.find([upload])
        assert (row.folder / "batchnorm.py").stat().st_size == intake.MAX_MODULE_BYTES + 1  # which grade ignores


def test_a_bad_entry_in_a_class_zip_costs_the_student_whose_folder_holds_it(tmp_path):
    work = tmp_path / "export"
    submission(work / "submission_1", notebook=False)
    submission(work / "submission_2", notebook=False)
    (work / "submission_metadata.yml").write_text(
        "submission_1:\n  :submitters:\n  - :sid: '11'\nsubmission_2:\n  :submitters:\n  - :sid: '22'\n")
    export = zip_folder(work, tmp_path / "export.zip")  # a Gradescope export
    with zipfile.ZipFile(export, "a") as archive:
        archive.writestr(*link_entry("submission_2/batchnorm_helpers.py", "/etc/passwd"))
        archive.writestr("../outside.txt", "")  # in no student's folder
    (work / "submission_metadata.yml").unlink()
    whole = zip_folder(work, tmp_path / "class.zip", prefix="class/")  # a plain class, wrapped in a folder
    with zipfile.ZipFile(whole, "a") as archive:
        archive.writestr("class/submission_1/notes/../../../up.py", "")
    with Finder(GRADED) as finder:
        rows = finder.find([export])
        assert finder.warnings == [f"{export}: its entry '../outside.txt' climbs out of the zip with '..'; left out"]
        assert [(row.name, row.status, row.reason) for row in rows] == [
            ("11", "graded", ""), ("22", "zip refused", "its entry 'submission_2/batchnorm_helpers.py' is a link")]
        rows = finder.find([whole])
    assert [(row.name, row.status, row.reason) for row in rows] == [
        ("submission_1", "zip refused", "its entry 'class/submission_1/notes/../../../up.py' climbs out of the zip "
                                        "with '..'"), ("submission_2", "graded", "")]


@pytest.mark.parametrize("name", ["x" * 300, "caf\u00e9 \u202eyxalag", "line\nbreak", "\x1b[2J\x1b[31mred",
                                  "=cmd|' /C calc'!A0", "-rf", "**Score: 65 of 65** <img src=x onerror=alert(1)>",
                                  "[link](https://evil.example)", "\ud800", ""])
def test_every_kind_of_name_becomes_a_file_safe_bounded_row(tmp_path, name):
    """Folder names and zip entry names alike: the row's name is a short file-safe
    name, its source one line of valid text, however the name was made."""
    folder = tmp_path / "class"
    on_disk = name.encode("utf-8", "surrogatepass").decode("utf-8", "surrogateescape")[:200] or "_"
    submission(folder / on_disk, notebook=False)
    with zipfile.ZipFile(folder / "zipped.zip", "w") as archive:
        for module in MODULES:
            archive.write(SOLUTIONS / module, f"{name.encode('utf-8', 'replace').decode()}/{module}")
    with Finder(GRADED) as finder:
        rows = finder.find([folder])
    assert [row.status for row in rows] == ["graded", "graded"]
    names = unique_names([row.name for row in rows])
    assert all(re.fullmatch(r"[A-Za-z0-9]([A-Za-z0-9._+@-]{0,98}[A-Za-z0-9])?", n) for n in names), names
    for row in rows:
        assert row.source.encode("utf-8") and not re.search(r"[\x00-\x1f\x7f-\x9f\u202e]", row.source)
        assert len(row.source) <= intake.SOURCE_LIMIT


def test_a_group_and_an_email_address_keep_naming_their_students():
    """A gradebook export matches rows to students by these names."""
    names = unique_names(["1111+2222", "alice@uni.edu", "+=1+1", "@bob", "-rf"])
    assert names[:2] == ["1111+2222", "alice@uni.edu"]
    assert [re.sub(r"-[0-9a-f]{6}$", "", n) for n in names[2:]] == ["1+1", "bob", "rf"] and "bob" not in names


@pytest.mark.parametrize("order", [1, -1])
def test_a_name_made_file_safe_never_takes_or_reads_as_another_students(order):
    """"!bob" would be "bob" once made file-safe: whatever the order, bob keeps his
    name, and the other row is marked as not his (a gradebook export matches names)."""
    raw = ["!bob", "bob", "bob?", "bob-2", "bob-2"][::order]
    names = dict(zip(raw[::-1], unique_names(raw)[::-1]))  # the first "bob-2" of raw gets its name
    assert names["bob"] == "bob" and "bob-2" in unique_names(raw)
    assert len(set(unique_names(raw))) == 5
    for other in ("!bob", "bob?"):
        assert re.fullmatch(r"bob-[0-9a-f]{6}", names[other]), names
    assert unique_names(["!bob"]) != ["bob"]


def test_links_are_never_followed_while_finding_submissions(tmp_path):
    submission(tmp_path / "elsewhere" / "eve")
    (tmp_path / "class").mkdir()
    submission(tmp_path / "class" / "alice")
    (tmp_path / "class" / "eve").symlink_to(tmp_path / "elsewhere" / "eve")
    linked = tmp_path / "class" / "zed"
    linked.mkdir()
    (linked / "batchnorm.py").symlink_to(SOLUTIONS / "batchnorm.py")
    (linked / "batchnorm").symlink_to(tmp_path / "elsewhere" / "eve")
    assert found(tmp_path / "class") == [("alice", "graded"), ("zed", "no modules found"),
                                         ("eve", "link not followed")]


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


def test_a_zip_on_the_command_line_that_cannot_be_read_is_a_usage_error(tmp_path):
    (tmp_path / "class.zip").write_text("not a zip")
    done = run_cli("grade", tmp_path / "class.zip", "--out", tmp_path / "out")
    assert done.returncode == 2 and not (tmp_path / "out").exists()
    assert done.stderr == (f"python -m autograder grade: error: {tmp_path / 'class.zip'} was refused: it is not a zip "
                           "file that can be read (BadZipFile: File is not a zip file).\n")


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


STUCK = """
def zero_centered(X):
    while True:
        pass
"""

# Holds what a run holds while it grades: an output's staging folder and a folder of
# unpacked zips; says where, then waits to be told to go on (or is killed).
HOLD = """
import sys
from autograder.assignments import load
from autograder.intake import Finder
from autograder.reports.files import fresh_folder
with Finder(load("batchnorm")) as finder, fresh_folder(sys.argv[1]) as staging:
    [row] = finder.find([sys.argv[2]])
    print(staging, row.folder, flush=True)
    sys.stdin.read()
"""


def held_by(pid, part):
    """The folders the process ``pid`` holds open whose path contains ``part``."""
    fds = Path(f"/proc/{pid}/fd")
    return sorted({os.readlink(fd) for fd in fds.iterdir() if part in os.readlink(fd)})


def hold(out, zipped):
    """A process holding what a run holds, and the folders it holds (its staging and
    old folders beside ``out``, its folder of unpacked zips)."""
    process = subprocess.Popen([sys.executable, "-c", HOLD, str(out), str(zipped)], cwd=ROOT, text=True,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               env={**os.environ, "PYTHONPATH": str(ROOT)})
    process.stdout.readline()
    return process, [Path(p) for p in held_by(process.pid, str(out.parent)) + held_by(process.pid, "autograder-zips-")]


@pytest.mark.parametrize("number", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupted_run_leaves_nothing_behind(tmp_path, number):
    work = tmp_path / "work"
    submission(work / "alice", notebook=False)
    stuck = submission(work / "stuck", notebook=False)
    (stuck / "preprocessing.py").write_text((stuck / "preprocessing.py").read_text() + STUCK)
    whole = zip_folder(work, tmp_path / "class.zip")
    out = tmp_path / "out"
    process = subprocess.Popen([sys.executable, "-m", "autograder", "grade", str(whole), "--out", str(out),
                                "--timeout", "60"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               env={**os.environ, "PYTHONPATH": str(ROOT)})
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob(".out.staging-*/alice.md")):  # alice is done: stuck is being graded
        assert process.poll() is None and time.monotonic() < deadline, process.stderr.read()
        time.sleep(0.05)
    held = held_by(process.pid, str(tmp_path)) + held_by(process.pid, "autograder-zips-")
    process.send_signal(number)
    assert process.wait(timeout=30) == -number
    assert len(held) == 3 and [path for path in held if os.path.lexists(path)] == []  # staging, old, zips
    assert sorted(p.name for p in tmp_path.iterdir()) == ["class.zip", "work"]


def test_a_later_run_removes_what_a_killed_run_left_but_not_what_a_running_one_holds(tmp_path):
    out = tmp_path / "out"
    zipped = zip_folder(submission(tmp_path / "work" / "alice", notebook=False), tmp_path / "alice.zip")
    running, live = hold(out, zipped)  # a run still going, in parallel
    killed, dead = hold(out, zipped)
    killed.kill()  # SIGKILL: no handler runs
    killed.wait()
    assert len(live) == len(dead) == 3 and all(path.exists() for path in live + dead)
    with Finder(GRADED) as finder:
        finder.find([zipped])  # a new folder of unpacked zips
    grade_class([notebook_only(tmp_path / "bob")], out=out, progress=False)  # new staging and old folders
    assert [path for path in dead if path.exists()] == [] and all(path.exists() for path in live)
    running.send_signal(signal.SIGTERM)
    assert running.wait(timeout=30) == -signal.SIGTERM
    assert [path for path in live if path.exists()] == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["alice.zip", "bob", "out", "work"]


def test_a_swap_cut_short_is_undone_by_the_next_run(tmp_path):
    """A run killed between the two renames of the swap left the earlier results in
    .out.old-*/previous and no out: the next run puts them back first."""
    out = tmp_path / "out"
    (tmp_path / ".out.old-cut" / "previous").mkdir(parents=True)
    (tmp_path / ".out.old-cut" / "previous" / "summary.json").write_text("{}")
    (tmp_path / ".out.staging-cut").mkdir()
    with pytest.raises(RuntimeError), fresh_folder(out):
        raise RuntimeError("this run fails too")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"] and (out / "summary.json").read_text() == "{}"


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
    removed = ["grades/batchnorm/latest/grades.csv", ".build/demo/x.py", "autograder-normalization.zip",
               "solutions/batchnorm/executed/x.ipynb"]
    for name in kept + removed:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    done = subprocess.run(["make", "clean"], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert [n for n in kept if not (tmp_path / n).exists()] == []
    assert [n for n in removed if (tmp_path / n).exists()] == []


def test_each_student_folder_has_its_own_layout_in_a_class_folder_and_zip(tmp_path):
    """One student's folder named like the assignment (nbgrader's layout) changes
    nothing for a classmate whose modules sit one folder down (a zipped folder)."""
    submission(tmp_path / "class" / "alice")
    submission(tmp_path / "class" / "bob" / "my_solution")
    submission(tmp_path / "class" / "eve" / "batchnorm")
    submission(tmp_path / "class" / "finn" / "batchnorm", RELEASE)
    submission(tmp_path / "class" / "finn" / "old", SOLUTIONS)  # nbgrader's layout: only batchnorm/ counts
    expected = [("alice", "graded"), ("bob", "graded"), ("eve", "graded"), ("finn", "graded")]
    assert found(tmp_path / "class") == expected
    assert found(zip_folder(tmp_path / "class", tmp_path / "class.zip")) == expected
    with Finder(GRADED) as finder:
        rows = finder.find([tmp_path / "class"])
    assert [r.folder.relative_to(tmp_path / "class") for r in rows] == [
        Path("alice"), Path("bob/my_solution"), Path("eve/batchnorm"), Path("finn/batchnorm")]


def test_modules_in_two_folders_are_one_sentence_and_none_too_deep_are_found(tmp_path):
    submission(tmp_path / "class" / "ann" / "new")
    submission(tmp_path / "class" / "ann" / "old", RELEASE)
    submission(tmp_path / "class" / "ben" / "w" / "x" / "y" / "z")  # four folders down
    submission(tmp_path / "class" / "cy" / "w" / "x" / "y")  # three: found
    with Finder(GRADED) as finder:
        ann, ben, cy = finder.find([tmp_path / "class"])
    assert (ann.status, ann.reason) == ("modules in several folders", "the folders 'new' and 'old' both hold modules")
    assert "cannot tell which one you meant" in ann.notice and "No student module" not in ann.notice
    assert (ben.status, cy.status) == ("no modules found", "graded")
    [result] = grade_class([ann], assignment=GRADED, progress=False)
    assert result.score == 0 and result.status == f"modules in several folders: {ann.reason}"
    assert result.notice == ann.notice


def test_every_entry_of_a_class_folder_gets_a_row_or_a_stated_reason(tmp_path):
    submission(tmp_path / "real" / "bob")
    zip_folder(submission(tmp_path / "real" / "carol"), tmp_path / "real" / "carol.zip")
    submission(tmp_path / "class" / "alice")
    (tmp_path / "class" / "bob").symlink_to(tmp_path / "real" / "bob")
    (tmp_path / "class" / "carol.zip").symlink_to(tmp_path / "real" / "carol.zip")
    (tmp_path / "class" / "notes.txt").write_text("hello")
    with Finder(GRADED) as finder:
        rows = finder.find([tmp_path / "class"])
        warnings = finder.warnings
    assert [(r.name, r.status) for r in rows] == [("alice", "graded"), ("bob", "link not followed"),
                                                 ("carol", "link not followed")]
    assert rows[1].reason == intake.LINK_REASON and rows[2].source == str(tmp_path / "class" / "carol.zip")
    assert warnings == [f"{tmp_path / 'class' / 'notes.txt'} is neither a folder nor a .zip file; left out"]
    results = grade_class(rows, assignment=GRADED, progress=False)
    assert [r.score for r in results] == [MAX, 0, 0] and results[1].notice == intake.LINK_NOTICE


def test_another_assignments_modules_are_named_as_such(tmp_path):
    """Modules of the course's other assignment are not "no module: submit the .py
    files", which would be untrue; the instructor is told which assignment they are."""
    other = load("normalization")
    submission(tmp_path / "class" / "alice")
    (tmp_path / "class" / "dave").mkdir()
    for name in other.spec.modules:
        shutil.copyfile(other.solutions / name, tmp_path / "class" / "dave" / name)
    notebook_only(tmp_path / "class" / "carol")
    zip_folder(tmp_path / "class" / "dave", tmp_path / "class" / "erin.zip", prefix="normalization/")
    with Finder(GRADED) as finder:
        alice, carol, dave, erin = finder.find([tmp_path / "class"])
    for row in (dave, erin):
        assert (row.status, row.reason) == ("no modules found",
                                            "it holds the normalization assignment's modules, not batchnorm's")
    assert "modules of the assignment normalization" in dave.notice and "notebooks" not in dave.notice
    assert (carol.status, carol.reason, carol.notice) == ("no modules found", "", no_modules(GRADED))
    out = tmp_path / "out"
    done = run_cli("grade", tmp_path / "class" / "dave", "--out", out)
    assert done.returncode == 1, done.stderr
    assert "dave" in done.stderr and "--assignment normalization" in done.stderr
    assert "modules of the assignment normalization" in (out / "dave.md").read_text()


def test_a_link_among_a_class_zips_students_or_a_gradescope_exports_submissions_is_a_row(tmp_path):
    submission(tmp_path / "class" / "alice")
    with zipfile.ZipFile(tmp_path / "class.zip", "w") as archive:
        for name in MODULES:
            archive.write(tmp_path / "class" / "alice" / name, f"alice/{name}")
        for entry in ("bob", "carol.zip"):
            link = zipfile.ZipInfo(entry)
            link.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(link, "/elsewhere")
    assert found(tmp_path / "class.zip") == [("alice", "graded"), ("bob", "link not followed"),
                                             ("carol", "link not followed")]
    export = tmp_path / "export"
    submission(export / "submission_1")
    (export / "submission_2").symlink_to(tmp_path / "class" / "alice")
    (export / "submission_metadata.yml").write_text(
        "submission_1:\n  :submitters:\n  - :sid: '1'\nsubmission_2:\n  :submitters:\n  - :sid: '2'\n")
    assert found(export) == [("1", "graded"), ("2", "link not followed")]
