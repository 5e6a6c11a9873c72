"""Grade a class: many submissions, in parallel, into one fresh output folder."""
import json
import re
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from . import sandbox
from .assignments import load
from .grade import Result, grade_submission
from .intake import Submission, UsageError, submission_at
from .reports.class_report import class_report_html
from .reports.files import fresh_folder, write_atomic
from .reports.results import results_json
from .reports.tables import class_table, feedback_markdown, grades_csv

CLASS_FILES = ("grades.csv", "summary.json", "table.txt", "report.html")
RESERVED = {Path(name).stem for name in CLASS_FILES}  # no student's files may take these names


def no_modules(graded):
    """The sentence of a submission that holds none of the assignment's modules."""
    return (f"No student module ({', '.join(graded.spec.modules)}) was found in your submission, so nothing "
            "could be graded: submit the .py files themselves, not only the notebooks.")


def unique_names(names):
    """A file-safe name per submission, made unique if needed, and never one that
    would overwrite the class files."""
    unique, taken = [], set(RESERVED)
    for raw in names:
        base = re.sub(r"[^A-Za-z0-9._-]+", "_", raw).strip("._") or "submission"
        name, n = base, 1
        while name in taken:
            n += 1
            name = f"{base}-{n}"
        taken.add(name)
        unique.append(name)
    return unique


def check_output_folder(out):
    """Refuse, before anything is graded, an output folder that each run's fresh copy
    would wipe although it is not the grader's: only a missing folder, an empty one or
    an earlier run's output (it holds summary.json) is replaced."""
    out = Path(out)
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise UsageError(f"--out {out} is not a folder; choose a new folder for the results")
    if out.is_dir() and any(out.iterdir()) and not (out / "summary.json").is_file():
        raise UsageError(f"--out {out} holds files that are not an earlier run's results (no summary.json), "
                         "and each run replaces the whole folder; choose a new folder")


class Progress:
    """Progress on stderr: on a terminal, one bar rewritten in place with the ETA;
    elsewhere (a log, a pipe), one plain line per submission."""

    def __init__(self, total, stream=None):
        self.stream = stream or sys.stderr
        self.total, self.done, self.start = total, 0, time.monotonic()
        self.bar = self.stream.isatty()

    def step(self, result):
        self.done += 1
        score = f"{result.score:g}/{result.max_score:g}"
        if not self.bar:
            self.stream.write(f"graded {self.done}/{self.total} {result.name} {score}\n")
        else:
            elapsed = time.monotonic() - self.start
            eta = elapsed / self.done * (self.total - self.done)
            bar = "#" * int(30 * self.done / self.total)
            self.stream.write(f"\r[{bar:<30}] {self.done}/{self.total} {elapsed:5.1f}s elapsed, "
                              f"ETA {eta:5.1f}s  {result.name[:30]:<30}")
            if self.done == self.total:
                self.stream.write("\n")
        self.stream.flush()


def _grade(submission, name, options):
    """Grade one submission, or say in one sentence why there was nothing to grade."""
    if submission.status == "graded":
        return grade_submission(submission.folder, name=name, **options)
    graded = options["assignment"]
    notice = no_modules(graded) if submission.status == "no modules found" else (
        "Your zip file could not be unpacked safely, so nothing was graded; submit the .py files themselves.")
    return Result.nothing_graded(name, options.get("checks") or graded.checks, notice, status=submission.status)


def grade_class(submissions, out=None, jobs=1, progress=True, hidden_visibility=None, assignment=None, **options):
    """Grade ``submissions`` (intake.Submission objects, or submission folders) and
    return their results in input order. With ``out``, every file goes into a staging
    folder beside ``out`` (``.NAME.staging-*``): NAME.json and NAME.md per submission as
    each finishes, then grades.csv, summary.json, table.txt and report.html; the
    staging folder then replaces ``out`` whole, so no file of an earlier run survives."""
    options["assignment"] = graded = load(assignment)
    submissions = [s if isinstance(s, Submission) else submission_at(s, graded) for s in submissions]
    names = unique_names([s.name for s in submissions])
    if out is None:
        return _grade_all(submissions, names, None, jobs, progress, hidden_visibility, options)
    check_output_folder(out)
    with fresh_folder(out) as staging:
        results = _grade_all(submissions, names, staging, jobs, progress, hidden_visibility, options)
        write_atomic(staging / "grades.csv", grades_csv(results, [s.source for s in submissions]))
        summary = {"submissions": [_summary_row(s, r) for s, r in zip(submissions, results)]}
        write_atomic(staging / "summary.json", json.dumps(summary, indent=2) + "\n")
        write_atomic(staging / "table.txt", class_table(results) + "\n")
        write_atomic(staging / "report.html", class_report_html(results, options["assignment"].catalogue))
    return results


def _grade_all(submissions, names, folder, jobs, progress, hidden_visibility, options):
    bar = Progress(len(submissions)) if progress and len(submissions) > 1 else None
    results = [None] * len(submissions)
    # SIGTERM and SIGINT end the run without leaving a submission's copy or process behind.
    with sandbox.removed_on_signals(), ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {pool.submit(_grade, submission, name, options): i
                   for i, (submission, name) in enumerate(zip(submissions, names))}
        for future in as_completed(futures):
            result = results[futures[future]] = future.result()
            if folder is not None:
                write_atomic(folder / f"{result.name}.json", results_json(result, hidden_visibility))
                write_atomic(folder / f"{result.name}.md", feedback_markdown(result))
            if bar:
                bar.step(result)
    return results


def _summary_row(submission, result):
    row = {"name": result.name, "status": result.status, "score": result.score, "max_score": result.max_score,
           "source": submission.source, "results": f"{result.name}.json", "feedback": f"{result.name}.md",
           "protections": list(result.protections)}
    if submission.students:
        row["students"] = list(submission.students)
    return row
