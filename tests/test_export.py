"""Grades into a gradebook: the file Canvas imports, matched against Canvas's own
gradebook export, and the long format, from a real grades.csv (a Gradescope export
with a group, graded by the command line) and from a real nbgrader gradebook.db.
Nobody is dropped silently, and no cell becomes a spreadsheet formula."""
import csv
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from autograder.assignments import load
from autograder.export import grades_from_csv, read_table
from autograder.reports.escape import CSV_FORMULA, csv_cell
from conftest import GRADED, RELEASE, ROOT, SOLUTIONS

COLUMN = "Batch normalization (1234)"
METADATA = """\
submission_11:
  :submitters:
  - :name: Alice Adams
    :sid: '1001'
submission_12:
  :submitters:
  - :name: Bob Brown
    :sid: '2001'
  - :name: Cy Chen
    :sid: '2002'
submission_13:
  :submitters:
  - :name: Zed Zane
    :sid: '9009'
"""
# Canvas's gradebook export, as Excel saves it back: a byte-order mark, CRLF line
# ends, quoted names with commas, the Points Possible and Manual Posting rows, the
# Integration ID and score columns, Canvas's test student, and a hostile name.
ROSTER = (
    "\ufeffStudent,ID,SIS User ID,SIS Login ID,Integration ID,Section,Batch normalization (1234),Current Score\r\n"
    "    Points Possible,,,,,,65.00,(read only)\r\n"
    ",,,,,,Manual Posting,\r\n"
    '"Adams, Alice",11,1001,aadams,,"Section A",,\r\n'
    '"=HYPERLINK(""http://evil.example"",""x"")",12,2001,bbrown,,Section A,,\r\n'
    '"Chen, Cy",13,2002,CCHEN,,Section B,,\r\n'
    '"Diaz, Dee",14,3003,ddiaz,,Section B,,\r\n'
    '"Student, Test",15,,,,,,\r\n'
)


def run_cli(*args, cwd=ROOT):
    done = subprocess.run([sys.executable, "-m", "autograder", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=300)
    assert "Traceback" not in done.stderr, done.stderr
    return done


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    """A Gradescope export (a student, a group of two, a student not in the roster)
    graded by `python -m autograder grade --out`: its grades.csv and summary.json."""
    base = tmp_path_factory.mktemp("class")
    export = base / "export"
    for folder, source in (("submission_11", SOLUTIONS), ("submission_12", RELEASE), ("submission_13", SOLUTIONS)):
        (export / folder).mkdir(parents=True)
        for name in GRADED.spec.modules:
            shutil.copy(source / name, export / folder / name)
    (export / "submission_metadata.yml").write_text(METADATA)
    done = run_cli("grade", export, "--out", base / "grades")
    assert done.returncode == 0, done.stderr
    return base / "grades"


@pytest.fixture
def roster(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_bytes(ROSTER.encode())
    return path


def rows_of(path):
    return list(csv.reader(io.StringIO(Path(path).read_text(), newline="")))


def test_canvas_import_file_matches_the_roster_and_lists_who_is_missing(graded_class, roster, tmp_path):
    out = tmp_path / "canvas.csv"
    done = run_cli("export", "canvas", "--grades", graded_class / "grades.csv", "--roster", roster,
                   "--assignment-column", COLUMN, "--out", out)
    assert done.returncode == 0, done.stderr
    assert rows_of(out) == [
        ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", COLUMN],
        ["    Points Possible", "", "", "", "", "65"],
        ["Adams, Alice", "11", "1001", "aadams", "Section A", "65"],
        ["'=HYPERLINK(\"http://evil.example\",\"x\")", "12", "2001", "bbrown", "Section A", "0"],
        ["Chen, Cy", "13", "2002", "CCHEN", "Section B", "0"],  # the group's grade, for each member
        ["Diaz, Dee", "14", "3003", "ddiaz", "Section B", ""],
        ["Student, Test", "15", "", "", "", ""],
    ]
    lines = done.stderr.splitlines()
    assert "no grade: Diaz, Dee (ddiaz): no submission" in lines
    assert "no grade: Student, Test: no submission" in lines
    assert "not matched: 9009 (grades.csv line 4): not in the roster" in lines
    assert lines[-1] == (f"wrote {out}: 3 of 5 roster students have a grade; 2 have none (left blank, so Canvas "
                         f"keeps what it holds); 1 grade matches no roster student (it is not in {out}) "
                         "(listed above).")


def test_the_export_is_byte_identical_from_run_to_run(graded_class, roster, tmp_path):
    digests = []
    for name in ("first.csv", "second.csv"):
        run_cli("export", "canvas", "--grades", graded_class / "grades.csv", "--roster", roster,
                "--assignment-column", COLUMN, "--out", tmp_path / name)
        digests.append(hashlib.sha256((tmp_path / name).read_bytes()).hexdigest())
    assert digests[0] == digests[1]


def test_a_group_row_counts_for_each_member_that_summary_json_lists_and_a_plus_alone_is_no_group(tmp_path):
    grades = tmp_path / "grades.csv"
    grades.write_bytes("\ufeffsubmission,status,total,max_total,source\r\n"
                       '1001,graded,65,65,"class/a, b"\r\n'
                       "2001+2002,graded,12.5,65,class/g\r\n"
                       "mallory+1001,graded,3,65,class/m\r\n"
                       "3003,grader failed,0,65,class/c\r\n".encode())
    found = [(g.student, g.score, g.max_score, g.why) for g in grades_from_csv(grades, "batchnorm")]
    assert found == [("1001", 65.0, 65.0, ""), ("2001+2002", 12.5, 65.0, ""), ("mallory+1001", 3.0, 65.0, ""),
                     ("3003", None, 65.0, "the grader failed on it; grade it again")]
    (tmp_path / "summary.json").write_text(json.dumps({"assignment": "batchnorm", "submissions": [
        {"name": "2001+2002", "students": [{"sid": "2001"}, {"sid": "2002"}]}]}))
    found = [(g.student, g.score) for g in grades_from_csv(grades)]
    assert found == [("1001", 65.0), ("2001", 12.5), ("2002", 12.5), ("mallory+1001", 3.0), ("3003", None)]


def test_two_grades_for_one_student_and_a_grader_failure_are_left_blank_and_listed(tmp_path, roster):
    grades = tmp_path / "grades.csv"
    grades.write_text("submission,status,total,max_total,source\n"
                      "1001,graded,65,65,a\n"
                      "aadams,graded,10,65,b\n"  # Alice again, by her login
                      "3003,grader failed,0,65,c\n")
    out = tmp_path / "canvas.csv"
    done = run_cli("export", "canvas", "--grades", grades, "--roster", roster, "--assignment-column", COLUMN,
                   "--out", out)
    assert done.returncode == 0, done.stderr
    scores = {row[0]: row[5] for row in rows_of(out)[2:]}
    assert scores["Adams, Alice"] == "" and scores["Diaz, Dee"] == ""
    assert "no grade: Adams, Alice (aadams): two grades (grades.csv line 2, grades.csv line 3); left blank" \
        in done.stderr
    assert "no grade: Diaz, Dee (ddiaz): the grader failed on it; grade it again" in done.stderr


def test_a_roster_saved_with_semicolons_and_an_id_shared_by_two_students(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("Student;ID;SIS User ID;SIS Login ID;Section\n"
                      "Ann;1;77;ann;S\n"
                      "Ben;2;78;77;S\n")  # Ben's login is Ann's SIS id
    grades = tmp_path / "grades.csv"
    grades.write_text("submission,status,total,max_total,source\n77,graded,5,65,x\n78,graded,6,65,y\n")
    out = tmp_path / "canvas.csv"
    done = run_cli("export", "canvas", "--grades", grades, "--roster", roster, "--assignment-column", COLUMN,
                   "--out", out)
    assert done.returncode == 0, done.stderr
    assert [row[5] for row in rows_of(out)[2:]] == ["", "6"]
    assert "not matched: 77 (grades.csv line 2): the SIS id or login of two roster students" in done.stderr
    assert f"note: the roster has no column {COLUMN!r}" in done.stderr


def test_a_points_possible_that_differs_from_the_graders_total_is_refused(graded_class, tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER.replace("65.00", "100.00"))
    done = run_cli("export", "canvas", "--grades", graded_class / "grades.csv", "--roster", roster,
                   "--assignment-column", COLUMN, "--out", tmp_path / "canvas.csv")
    assert done.returncode == 2 and not (tmp_path / "canvas.csv").exists()
    assert done.stderr.strip() == (f"python -m autograder export: error: the column {COLUMN!r} is worth 100.00 "
                                   "points in Canvas, but the grades are of batchnorm, out of 65: choose batchnorm's "
                                   "column, or make it worth 65 points in Canvas first.")


def test_long_format_from_grades_csv(graded_class, tmp_path):
    out = tmp_path / "long.csv"
    done = run_cli("export", "long", "--grades", graded_class / "grades.csv", "--out", out)
    assert done.returncode == 0, done.stderr
    assert rows_of(out) == [["student", "assignment", "score", "max_score"],
                            ["1001", "batchnorm", "65", "65"], ["2001", "batchnorm", "0", "65"],
                            ["2002", "batchnorm", "0", "65"], ["9009", "batchnorm", "65", "65"]]
    assert done.stderr.splitlines()[-1] == f"wrote {out}: 4 scores."


@pytest.fixture(scope="module")
def gradebook(tmp_path_factory):
    """A gradebook.db made by nbgrader's own API: two assignments, three students
    (one with a hostile id), one without a submission. Tests only read it."""
    from nbgrader.api import Gradebook
    from sqlalchemy.exc import SAWarning
    path = tmp_path_factory.mktemp("course") / "gradebook.db"
    # nbgrader asks the alembic command for the schema's version of a new database, and
    # its add_submission warns of objects not yet in the session (nbgrader's own doing).
    with pytest.MonkeyPatch.context() as patch, warnings.catch_warnings():
        patch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
        warnings.simplefilter("ignore", SAWarning)
        gb = Gradebook(f"sqlite:///{path}", course_id="")  # as nbgrader's commands make it
        for assignment, cells in (("batchnorm", {"grade-modules": 65, "grade-notebook": 13}),
                                  ("normalization", {"grade-all": 40})):
            gb.add_assignment(assignment)
            gb.add_notebook("Notebook", assignment)
            for cell, points in cells.items():
                gb.add_grade_cell(cell, "Notebook", assignment, max_score=points, cell_type="code")
        for student in ("alice", "@bob", "carol"):
            gb.add_student(student)
        scores = {("batchnorm", "alice"): {"grade-modules": 60.5, "grade-notebook": 13},
                  ("batchnorm", "@bob"): {"grade-modules": 20, "grade-notebook": 0},
                  ("normalization", "alice"): {"grade-all": 40}}
        for (assignment, student), cells in scores.items():
            gb.add_submission(assignment, student)
            for cell, score in cells.items():
                gb.find_grade(cell, "Notebook", assignment, student).auto_score = score
        gb.db.commit()
        gb.close()
    return path


def test_long_format_from_an_nbgrader_gradebook(gradebook, tmp_path):
    before = gradebook.read_bytes()
    out = tmp_path / "long.csv"
    done = run_cli("export", "long", "--gradebook", gradebook, "--out", out, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert rows_of(out) == [["student", "assignment", "score", "max_score"],
                            ["'@bob", "batchnorm", "20", "78"], ["'@bob", "normalization", "", "40"],
                            ["alice", "batchnorm", "73.5", "78"], ["alice", "normalization", "40", "40"],
                            ["carol", "batchnorm", "", "78"], ["carol", "normalization", "", "40"]]
    assert "no score: carol in batchnorm: no submission (gradebook.db)" in done.stderr
    assert done.stderr.splitlines()[-1] == f"wrote {out}: 3 scores; 3 rows have none (listed above)."
    assert gradebook.read_bytes() == before, "the gradebook is read, never written"


def test_canvas_from_a_gradebook_takes_one_assignment(gradebook, tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("Student,ID,SIS User ID,SIS Login ID,Section\nAlice,1,,alice,S\nCarol,3,,carol,S\n")
    args = ["export", "canvas", "--gradebook", gradebook, "--roster", roster, "--assignment-column", COLUMN,
            "--out", tmp_path / "canvas.csv"]
    done = run_cli(*args, cwd=tmp_path)
    assert done.returncode == 2 and "holds several assignments; choose one with --assignment NAME" in done.stderr
    done = run_cli(*args, "--assignment", "batchnorm", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert rows_of(tmp_path / "canvas.csv")[1:] == [["    Points Possible", "", "", "", "", "78"],
                                                    ["Alice", "1", "", "alice", "S", "73.5"],
                                                    ["Carol", "3", "", "carol", "S", ""]]
    assert "not matched: @bob (gradebook.db): not in the roster" in done.stderr


@pytest.mark.parametrize("case, message", [
    ("no SIS columns", "has neither a 'SIS Login ID' nor a 'SIS User ID' column"),
    ("not grades", "has no 'submission', 'total', 'max_total' column, so it is not a grades.csv"),
    ("bad total", "grades.csv line 2 (1001): 'lots' is not a finite number"),
    ("missing", "cannot read"),
    ("out is the roster", "is one of the files read; choose another --out"),
    ("not a gradebook", "is not an nbgrader gradebook"),
])
def test_bad_input_is_one_sentence_and_writes_nothing(case, message, tmp_path, roster):
    grades = tmp_path / "grades.csv"
    grades.write_text("submission,status,total,max_total,source\n1001,graded,65,65,a\n")
    out = tmp_path / "canvas.csv"
    source = ["--grades", grades]
    if case == "no SIS columns":
        roster.write_text("Student,ID,Section\nAnn,1,S\n")
    elif case == "not grades":
        grades.write_text("name,score\nann,3\n")
    elif case == "bad total":
        grades.write_text("submission,status,total,max_total,source\n1001,graded,lots,65,a\n")
    elif case == "missing":
        source = ["--grades", tmp_path / "nowhere.csv"]
    elif case == "out is the roster":
        out = roster
    else:
        (tmp_path / "gradebook.db").write_text("not a database")
        source = ["--gradebook", tmp_path / "gradebook.db"]
    before = roster.read_bytes()
    done = run_cli("export", "canvas", *source, "--roster", roster, "--assignment-column", COLUMN, "--out", out)
    assert done.returncode == 2 and message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert roster.read_bytes() == before and (out == roster or not out.exists())


def test_no_exported_cell_can_become_a_formula(graded_class, roster, gradebook, tmp_path):
    for start in CSV_FORMULA:
        assert csv_cell(f"{start}1+1") == f"'{start}1+1"
    assert not csv_cell("\t=1").startswith(("\t", "=")) and not csv_cell("\r=1").startswith(("\r", "="))
    assert csv_cell("alice") == "alice" and csv_cell("") == ""
    outputs = [tmp_path / "canvas.csv", tmp_path / "long.csv"]
    run_cli("export", "canvas", "--grades", graded_class / "grades.csv", "--roster", roster, "--assignment-column",
            "=1+1", "--out", outputs[0])
    run_cli("export", "long", "--gradebook", gradebook, "--out", outputs[1], cwd=tmp_path)
    cells = [cell for out in outputs for row in rows_of(out) for cell in row]
    assert cells and "'=1+1" in cells
    assert [cell for cell in cells if cell.startswith((*CSV_FORMULA, "\t", "\r"))] == []


def test_tables_are_read_whatever_the_spreadsheet_saved(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes("\ufeffa;b\r\n\r\n\"x;1\";2\r\n3\r\n".encode())
    assert read_table(path) == (["a", "b"], [["x;1", "2"], ["3", ""]])
    path.write_bytes("a,b\nJos\xe9,1\n".encode("cp1252"))
    assert read_table(path) == (["a", "b"], [["José", "1"]])


def test_the_assignment_graded_is_recorded_and_a_mismatch_refused(graded_class, roster, tmp_path):
    """grades.csv of a normalization class never goes out as batchnorm's: summary.json
    records the assignment, the columns tell it without one, and --assignment must agree."""
    assert json.loads((graded_class / "summary.json").read_text())["assignment"] == "batchnorm"
    norm = load("normalization")
    total = sum(c.points for c in norm.checks)
    folder = tmp_path / "out_norm"
    folder.mkdir()
    grades = folder / "grades.csv"
    grades.write_text(f"submission,status,{','.join(norm.spec.groups)},total,max_total,source\n"
                      f"1001,graded,{','.join('0' * len(norm.spec.groups))},{total},{total},a\n")
    for summary in (None, {"assignment": "normalization", "submissions": []}):
        if summary:
            (folder / "summary.json").write_text(json.dumps(summary))
        done = run_cli("export", "long", "--grades", grades, "--out", tmp_path / "long.csv")
        assert done.returncode == 0, done.stderr
        assert rows_of(tmp_path / "long.csv")[1] == ["1001", "normalization", f"{total:g}", f"{total:g}"]
        done = run_cli("export", "long", "--grades", grades, "--assignment", "batchnorm", "--out", tmp_path / "b.csv")
        assert done.returncode == 2 and not (tmp_path / "b.csv").exists()
        assert "not of batchnorm" in done.stderr or "does not hold grades of batchnorm" in done.stderr
        done = run_cli("export", "canvas", "--grades", grades, "--roster", roster, "--assignment-column", COLUMN,
                       "--out", tmp_path / "canvas.csv")
        assert done.returncode == 2 and not (tmp_path / "canvas.csv").exists()
        assert f"is worth 65.00 points in Canvas, but the grades are of normalization, out of {total:g}" \
            in done.stderr


@pytest.mark.parametrize("total, max_total", [("nan", "65"), ("inf", "65"), ("1e300", "65"), ("-1", "65"),
                                              ("66", "65"), ("1e300", "1e300"), ("0", "nan")])
def test_a_score_that_is_not_from_0_to_max_total_is_refused_naming_its_row(total, max_total, tmp_path, roster):
    grades = tmp_path / "grades.csv"
    grades.write_text(f"submission,status,total,max_total,source\n1001,graded,65,65,a\neve,graded,{total},"
                      f"{max_total},b\n")
    done = run_cli("export", "canvas", "--grades", grades, "--roster", roster, "--assignment-column", COLUMN,
                   "--out", tmp_path / "canvas.csv")
    assert done.returncode == 2 and not (tmp_path / "canvas.csv").exists()
    [line] = done.stderr.strip().splitlines()
    assert "grades.csv line 3 (eve)" in line


def test_what_the_export_prints_holds_no_terminal_escape(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text(f"Student,ID,SIS User ID,SIS Login ID,Section,{COLUMN}\n"
                      "\x1b]0;owned\x07\x1b[2JEve,1,9,eve,S,\n")
    grades = tmp_path / "grades.csv"
    grades.write_text("submission,status,total,max_total,source\n\x1b[31mbob,graded,65,65,a\n")
    done = run_cli("export", "canvas", "--grades", grades, "--roster", roster, "--assignment-column", COLUMN,
                   "--out", tmp_path / "canvas.csv")
    assert done.returncode == 0, done.stderr
    assert "no grade: " in done.stderr and "not matched: " in done.stderr and "Eve" in done.stderr
    assert "\x1b" not in done.stderr and "\x07" not in done.stderr


def test_a_folder_named_like_a_group_gives_no_one_else_its_grade(tmp_path):
    """A class folder named "mallory+bob" is one row, never bob's grade too."""
    for name, source in (("bob", SOLUTIONS), ("mallory+bob", RELEASE)):
        (tmp_path / "class" / name).mkdir(parents=True)
        for module in GRADED.spec.modules:
            shutil.copy(source / module, tmp_path / "class" / name / module)
    (tmp_path / "roster.csv").write_text(f"Student,ID,SIS User ID,SIS Login ID,Section,{COLUMN}\n"
                                         "    Points Possible,,,,,65\nBob,2,2002,bob,S1,\nMallory,3,2003,mallory,S1,\n")
    assert run_cli("grade", tmp_path / "class", "--out", tmp_path / "out").returncode == 0
    done = run_cli("export", "canvas", "--grades", tmp_path / "out" / "grades.csv", "--roster",
                   tmp_path / "roster.csv", "--assignment-column", COLUMN, "--out", tmp_path / "canvas.csv")
    assert done.returncode == 0, done.stderr
    assert rows_of(tmp_path / "canvas.csv")[2:] == [["Bob", "2", "2002", "bob", "S1", "65"],
                                                    ["Mallory", "3", "2003", "mallory", "S1", ""]]
    assert "not matched: mallory+bob" in done.stderr
