"""Grades out of the grader and into a gradebook (``python -m autograder export``).

Two sources: the ``grades.csv`` of a graded class (one row per submission; a
Gradescope group's row counts for each member that the summary.json beside it
lists; that file also records the assignment graded), or
nbgrader's ``gradebook.db``, read through nbgrader's own Gradebook API. Two formats:

- ``canvas``: the CSV that Canvas's gradebook imports (Grades > Import): the columns
  Student, ID, SIS User ID, SIS Login ID and Section of Canvas's own gradebook export
  (the roster), a "Points Possible" row, and one column named "Assignment name (id)".
  Students are matched by the roster's SIS Login ID or SIS User ID, case aside.
- ``long``: one row per student and assignment (student, assignment, score,
  max_score), which any LMS or spreadsheet reads.

Nobody is dropped silently: a grade that matches no roster student, a roster student
without a grade, a student with two grades and a submission the grader failed on are
each listed, on stderr and in the sentence that ends the run. Output is deterministic
and written atomically; no cell can turn into a spreadsheet formula.
"""
import csv
import io
import json
import math
import re
import sys
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from .assignments import UnknownAssignment, load, names
from .reports.escape import NAME_LIMIT, csv_cell, shown
from .reports.files import write_atomic

CANVAS_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
MATCHED_BY = ("SIS Login ID", "SIS User ID")
POINTS_POSSIBLE = "    Points Possible"  # as Canvas writes it: the importer looks for the words
LONG_COLUMNS = ("student", "assignment", "score", "max_score")
GRADER_FAILED = "grader failed"  # grades.csv's status of a submission the grader could not grade


class ExportError(Exception):
    """The input cannot be exported; the message is one sentence saying why."""


@dataclass(frozen=True)
class Grade:
    """One student's grade in one assignment; ``score`` is None when there is none
    to export (``why`` says why: the grader failed, no submission)."""
    student: str
    assignment: str
    score: float | None
    max_score: float
    source: str  # where it came from, for the lists: "grades.csv row 4"
    why: str = ""


def number(value):
    """A score as a spreadsheet reads it: no exponent, at most 4 decimals."""
    return f"{value:.4f}".rstrip("0").rstrip(".") if value is not None else ""


def read_table(path):
    """(header, rows) of the CSV file ``path``: a byte-order mark, quoted fields with
    commas or line breaks, semicolons or tabs as separators (as spreadsheets in many
    locales save), and blank lines are all read; rows are padded to the header's width."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as err:
        raise ExportError(f"cannot read {path}: {err.strerror or err}") from None
    except UnicodeDecodeError:
        try:
            text = path.read_bytes().decode("cp1252")
        except UnicodeDecodeError:
            raise ExportError(f"{path} is neither UTF-8 nor Windows-1252 text; save it as CSV (UTF-8)") from None
    first = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=lambda d: len(next(csv.reader([first], delimiter=d), [])))
    try:
        rows = [row for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
                if any(cell.strip() for cell in row)]
    except csv.Error as err:
        raise ExportError(f"{path} is not a readable CSV file: {err}") from None
    if not rows:
        raise ExportError(f"{path} is empty")
    header = [cell.strip() for cell in rows[0]]
    return header, [row + [""] * (len(header) - len(row)) for row in rows[1:]]


def _columns(header, names, path, what):
    missing = [name for name in names if name not in header]
    if missing:
        raise ExportError(f"{path} has no {', '.join(repr(m) for m in missing)} column, so it is not {what}")
    return [header.index(name) for name in names]


def read_summary(grades_path):
    """The summary.json that `python -m autograder grade --out` writes beside
    ``grades_path`` ({} when there is none): the assignment graded, and per row its
    Gradescope members, if any."""
    summary = Path(grades_path).with_name("summary.json")
    if not summary.is_file():
        return {}
    try:
        data = json.loads(summary.read_text(encoding="utf-8"))
        rows = data["submissions"]
        members = {row["name"]: [s.get("sid") or s.get("email") or s.get("name") for s in row["students"]]
                   for row in rows if row.get("students")}
        assignment = data.get("assignment")
        if assignment is not None and not isinstance(assignment, str):
            raise TypeError(assignment)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        raise ExportError(f"{summary} is not the summary.json that `python -m autograder grade --out` writes "
                          "beside grades.csv") from None
    return {"assignment": assignment, "members": members}


def _total(name):
    """The points of the course's assignment ``name`` and its parts, or None when the
    course has no such assignment."""
    try:
        graded = load(name)
        return sum(c.points for c in graded.checks), set(graded.spec.groups)
    except UnknownAssignment:
        return None


def assignment_of(path, chosen, recorded, parts, totals):
    """The assignment whose grades ``path`` holds: the one its summary.json records,
    else the course's one whose parts and total its columns and max_total are; with
    ``chosen`` (--assignment) it must be that one."""
    if recorded:
        if chosen and chosen != recorded:
            raise ExportError(f"{path} holds grades of the assignment {recorded} (its summary.json says so), not of "
                              f"{chosen}; drop --assignment, or export {chosen}'s grades.csv")
        return recorded
    fits = {name: total is not None and totals <= {total[0]} and (not parts or set(parts) == total[1])
            for name, total in ((n, _total(n)) for n in names())}
    if chosen:
        if chosen in fits and not fits[chosen]:
            raise ExportError(f"{path} does not hold grades of {chosen} (its parts or its max_total "
                              f"{', '.join(f'{t:g}' for t in sorted(totals))} are another assignment's); name the "
                              "assignment it holds with --assignment")
        return chosen
    matching = sorted(name for name, fit in fits.items() if fit)
    if len(matching) != 1:
        raise ExportError(f"{path} does not say which assignment it holds grades of (no summary.json beside it); "
                          "name it with --assignment NAME")
    return matching[0]


def _score(cell, where):
    """A score of grades.csv as a number, refused when it is none, or not finite."""
    try:
        value = float(cell)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise ExportError(f"{where}: {cell.strip()[:40]!r} is not a finite number")
    return value


def grades_from_csv(path, assignment=None):
    """The grades of ``grades.csv`` (written by ``python -m autograder grade --out``):
    one per student, a Gradescope group's row (its members listed in the summary.json
    beside it) giving each member the same grade. The assignment is the one recorded
    or told by its columns (``assignment_of``); ``assignment`` (--assignment) must
    agree. A total that is not a number from 0 to max_total is refused, naming its row."""
    summary = read_summary(path)
    members = summary.get("members", {})
    header, rows = read_table(path)
    name, total, maximum = _columns(header, ("submission", "total", "max_total"), path,
                                    "a grades.csv written by `python -m autograder grade --out`")
    status = header.index("status") if "status" in header else None
    parts = header[(status if status is not None else name) + 1:total]
    checked = []
    for line, row in enumerate(rows, start=2):
        where = f"{Path(path).name} line {line} ({shown(row[name], NAME_LIMIT)})"
        score, max_score = _score(row[total], where), _score(row[maximum], where)
        if not 0 <= score <= max_score or max_score <= 0:
            raise ExportError(f"{where}: the total {score:g} is not a score from 0 to max_total {max_score:g}")
        if checked and max_score != checked[0][2]:
            raise ExportError(f"{where}: max_total {max_score:g} is not the {checked[0][2]:g} of the rows above; one "
                              "grades.csv holds one assignment's grades")
        checked.append((row, score, max_score, f"{Path(path).name} line {line}"))
    assignment = assignment_of(path, assignment, summary.get("assignment"), parts,
                               {max_score for _, _, max_score, _ in checked})
    known = _total(assignment)
    if known and checked and checked[0][2] != known[0]:
        raise ExportError(f"{path}: max_total is {checked[0][2]:g}, not {known[0]:g}, the points of "
                          f"{assignment}; export a grades.csv that `python -m autograder grade --out` wrote")
    grades = []
    for row, score, max_score, where in checked:
        failed = status is not None and row[status].strip() == GRADER_FAILED
        # Only a row that summary.json lists as a Gradescope group counts for several
        # students: a folder named "mallory+bob" is one row, never bob's.
        for student in filter(None, (str(s).strip() for s in members.get(row[name]) or [row[name]] if s)):
            grades.append(Grade(student, assignment, None if failed else score, max_score, where,
                                "the grader failed on it; grade it again" if failed else ""))
    return grades


def grades_from_gradebook(path, assignment=None):
    """The grades in nbgrader's ``gradebook.db`` (of ``assignment``, else of every
    assignment): every student of the gradebook in every assignment, a student with
    no submission without a score. The database is opened read-only."""
    path = Path(path)
    if not path.is_file():
        raise ExportError(f"{path} is not a file; name nbgrader's gradebook.db (in the course folder)")
    from nbgrader.api import Gradebook, MissingEntry
    from sqlalchemy.exc import SQLAlchemyError
    grades = []
    # Read-only, and no course id: nbgrader would otherwise add a course to the database.
    url = f"sqlite:///file:{urllib.parse.quote(str(path.resolve()))}?mode=ro&uri=true"
    try:
        with Gradebook(url, course_id="") as gradebook:
            assignments = sorted(a.name for a in gradebook.assignments)
            if assignment is not None and assignment not in assignments:
                raise ExportError(f"{path} holds no assignment {assignment!r} (it holds "
                                  f"{', '.join(assignments) or 'none'})")
            for name in [assignment] if assignment else assignments:
                max_score = gradebook.find_assignment(name).max_score
                for student in sorted(s.id for s in gradebook.students):
                    try:
                        submission = gradebook.find_submission(name, student)
                    except MissingEntry:
                        grades.append(Grade(student, name, None, max_score, path.name, "no submission"))
                        continue
                    # What `nbgrader export` gives: the score less any late penalty, never below 0.
                    score = max(0.0, submission.score - submission.late_submission_penalty)
                    if not (math.isfinite(score) and math.isfinite(max_score) and score <= max_score):
                        raise ExportError(f"{path}: the score of {shown(student, NAME_LIMIT)} in {name}, "
                                          f"{score!r}, is not a number from 0 to {max_score!r}")
                    grades.append(Grade(student, name, score, max_score, path.name))
    except SQLAlchemyError as err:
        raise ExportError(f"{path} is not an nbgrader gradebook: {str(err).splitlines()[0]}") from None
    return grades


def long_csv(grades):
    """The long format: a header, then one row per grade, sorted by student and
    assignment."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(LONG_COLUMNS)
    for g in sorted(grades, key=lambda g: (g.student, g.assignment)):
        writer.writerow([csv_cell(g.student), csv_cell(g.assignment), number(g.score),
                         number(g.max_score)])
    return buffer.getvalue()


@dataclass
class CanvasExport:
    """Canvas's import file, and what matching grades to the roster found."""
    csv: str  # canvas.csv's text
    graded: int  # roster students with a score
    roster: int  # roster students
    unmatched: list  # (grade, why) of grades that match no single roster student
    no_grade: list  # (roster student, why) without a score
    notes: list  # sentences about the assignment column


def _key(text):
    return text.strip().casefold()


def canvas_csv(grades, roster_path, column):
    """Canvas's import file: every student of the roster (Canvas's gradebook export)
    in its order, with the score of their grade in ``column`` ("Name (id)"), and the
    assignment's points in the Points Possible row."""
    header, rows = read_table(roster_path)
    _columns(header, CANVAS_COLUMNS[:2] + ("Section",), roster_path, "Canvas's gradebook export")
    if not any(name in header for name in MATCHED_BY):
        raise ExportError(f"{roster_path} has neither a 'SIS Login ID' nor a 'SIS User ID' column, so its students "
                          "cannot be matched; export the gradebook from Canvas (Grades > Export)")
    points_row = next((row for row in rows if row[0].strip() == "Points Possible"), None)
    students = [row for row in rows if row is not points_row
                and not all(re.fullmatch(r"\s*(Muted|Manual Posting.*)?\s*", cell, re.I) for cell in row)]
    field = {name: header.index(name) for name in CANVAS_COLUMNS if name in header}
    owners = {}
    for index, row in enumerate(students):
        for name in MATCHED_BY:
            if name in field and row[field[name]].strip():
                owners.setdefault(_key(row[field[name]]), set()).add(index)
    scores, unmatched, clashes = {}, [], {}
    for g in grades:
        found = owners.get(_key(g.student), set())
        if len(found) != 1:
            unmatched.append((g, "the SIS id or login of two roster students" if found else "not in the roster"
                              + (" (a row counts for each member of a Gradescope group only as the summary.json "
                                 "beside grades.csv lists them)" if "+" in g.student else "")))
            continue
        index = next(iter(found))
        if index in scores:
            clashes.setdefault(index, [scores[index]]).append(g)
        scores[index] = g
    max_scores = {g.max_score for g in grades}
    if len(max_scores) > 1:
        raise ExportError(f"the grades are out of different totals ({', '.join(map(number, sorted(max_scores)))}): "
                          "export one assignment at a time")
    points = number(max_scores.pop() if max_scores else None)
    notes = []
    if column not in header:
        notes.append(f"the roster has no column {column!r}: Canvas will create a new assignment unless the name ends "
                     "with the id of one, as in 'Batch normalization (1234)'")
    elif points_row is not None and _differs(points_row[header.index(column)], points):
        assignment = next(iter({g.assignment for g in grades}))
        raise ExportError(f"the column {column!r} is worth {shown(points_row[header.index(column)].strip(), 20)} "
                          f"points in Canvas, but the grades are of {assignment}, out of {points}: choose "
                          f"{assignment}'s column, or make it worth {points} points in Canvas first")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*CANVAS_COLUMNS, csv_cell(column)])
    writer.writerow([POINTS_POSSIBLE, "", "", "", "", points])
    no_grade = []
    for index, row in enumerate(students):
        grade = scores.get(index)
        if index in clashes:
            why = "two grades (" + ", ".join(g.source for g in clashes[index]) + "); left blank"
            grade = None
        elif grade is None:
            why = "no submission"
        elif grade.score is None:
            why = grade.why
        if grade is None or grade.score is None:
            no_grade.append((_who(row, field), why))
        writer.writerow([csv_cell(row[field[name]]) if name in field else "" for name in CANVAS_COLUMNS]
                        + [number(grade.score) if grade is not None else ""])
    graded = len(students) - len(no_grade)
    return CanvasExport(buffer.getvalue(), graded, len(students), unmatched, no_grade, notes)


def _differs(cell, points):
    """Whether the roster's Points Possible ``cell`` is a number other than ``points``."""
    try:
        return bool(points) and float(cell.replace(",", ".")) != float(points)
    except ValueError:
        return False


def _who(row, field):
    login = next((row[field[n]].strip() for n in MATCHED_BY if n in field and row[field[n]].strip()), "")
    return f"{row[field['Student']].strip()} ({login})" if login else row[field["Student"]].strip()


def _count(items, one, many):
    return f"{len(items)} {one if len(items) == 1 else many}"


def report_canvas(canvas, out, stream=sys.stderr):
    """The lists, one student a line, then the sentence that sums them up."""
    for who, why in canvas.no_grade:
        print(f"no grade: {shown(who)}: {shown(why)}", file=stream)
    for g, why in canvas.unmatched:
        print(f"not matched: {shown(g.student)} ({shown(g.source)}): {why}", file=stream)
    for note in canvas.notes:
        print(f"note: {shown(note)}", file=stream)
    sentence = f"wrote {out}: {canvas.graded} of {canvas.roster} roster students have a grade"
    if canvas.no_grade:
        sentence += f"; {_count(canvas.no_grade, 'has', 'have')} none (left blank, so Canvas keeps what it holds)"
    if canvas.unmatched:
        sentence += (f"; {_count(canvas.unmatched, 'grade matches', 'grades match')} no roster student "
                     f"({'it is' if len(canvas.unmatched) == 1 else 'they are'} not in {out})")
    print(sentence + (" (listed above)." if canvas.no_grade or canvas.unmatched else "."), file=stream)


def write_grades(format, out, grades, inputs=(), roster=None, column=None, stream=sys.stderr):
    """Write ``grades`` (read from the files ``inputs``) to ``out`` in ``format``
    ("canvas": matched to ``roster``, in the assignment column ``column``; "long"),
    then say on ``stream`` what was written and who has no grade."""
    out = Path(out)
    if any(out.resolve() == Path(path).resolve() for path in [*inputs, *filter(None, [roster])]):
        raise ExportError(f"{out} is one of the files read; choose another --out")
    if format == "long":
        write_atomic(out, long_csv(grades))
        missing = [g for g in grades if g.score is None]
        for g in missing:
            print(f"no score: {shown(g.student)} in {shown(g.assignment)}: {shown(g.why)} ({shown(g.source)})",
                  file=stream)
        print(f"wrote {out}: {len(grades) - len(missing)} scores"
              + (f"; {_count(missing, 'row has', 'rows have')} none (listed above)." if missing else "."), file=stream)
        return
    canvas = canvas_csv(grades, roster, column)
    write_atomic(out, canvas.csv)
    report_canvas(canvas, out, stream)
