"""Grade a class: many submissions, in parallel, into one fresh output folder."""
import ctypes
import hashlib
import json
import multiprocessing
import os
import re
import signal
import sys
import threading
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from . import sandbox
from .assignments import load
from .grade import Result, grade_submission
from .intake import Submission, UsageError, submission_at
from .plain import from_plain, to_plain
from .reports.class_report import class_report_html, load_plotting
from .reports.escape import NAME_LIMIT
from .reports.files import fresh_folder, write_atomic
from .reports.results import results_json
from .reports.tables import class_table, feedback_markdown, grades_csv

CLASS_FILES = ("grades.csv", "summary.json", "table.txt", "report.html")
RESERVED = {Path(name).stem for name in CLASS_FILES}  # no student's files may take these names
# Workers are fresh interpreters, not forks of the grader, whose threads may hold
# locks at the moment of a fork; and children of the grader itself (a fork server's
# would outlive it), so that the kernel can end them when it dies.
WORKERS = multiprocessing.get_context("spawn")
PR_SET_PDEATHSIG = 1  # prctl(2): the signal a process gets when its parent dies
WORKER_DIED = ("The grader's process died while grading this submission (it was killed, or ran out of memory), "
               "so nothing was graded. Your instructor can see why.")


def unique_names(names):
    """A file-safe name per submission (ASCII letters, digits, ``._-+@``, starting and
    ending with a letter or a digit, at most NAME_LIMIT characters), unique, and never
    one that would overwrite the class files. ``+`` and ``@`` stay so that a group's
    ``sid1+sid2`` and an e-mail address still name their students (a gradebook export
    matches them); a name that starts with a letter or a digit is never a spreadsheet
    formula. A name that is file-safe as it is keeps itself, whatever its place; any
    other is made so and marked with a digest of what it was ("!bob" becomes
    "bob-f1a50b"), so that it never takes, or reads as, another student's name."""
    safe = [bool(raw) and _file_safe(raw) == raw and raw not in RESERVED for raw in names]
    taken = set(RESERVED) | {raw for raw, ok in zip(names, safe) if ok}
    claimed, unique = set(RESERVED), []
    for raw, ok in zip(names, safe):
        if ok and raw not in claimed:
            name = raw
        else:
            base = raw if ok else _marked(raw)
            name, n = base, 1
            while name in taken or name in claimed:
                n += 1
                name = f"{base}-{n}"
        claimed.add(name)
        unique.append(name)
    return unique


def _file_safe(raw, limit=NAME_LIMIT):
    """``raw`` with every run of other characters made "_", its ends trimmed to a
    letter or a digit, cut to ``limit`` characters; "" when nothing is left."""
    return re.sub(r"[^A-Za-z0-9._+@-]+", "_", raw).strip("._-+@")[:limit].rstrip("._-+@")


def _marked(raw):
    """The file-safe form of a name that was not, with a digest of the name."""
    digest = hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()[:6]
    return f"{_file_safe(raw, NAME_LIMIT - 7) or 'submission'}-{digest}"


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


def refused(reason):
    """The sentence of a submission whose zip was refused, ``reason`` saying why."""
    return (f"Nothing was graded: the zip file that holds your submission was refused, because {reason}. "
            "Submit the .py files themselves, or a zip of your folder with nothing else in it.")


def _grade(submission, name, options):
    """Grade one submission, or say in one sentence why there was nothing to grade."""
    if submission.status == "graded":
        return grade_submission(submission.folder, name=name, **options)
    graded = options["assignment"]
    notice = submission.notice or refused(submission.reason)
    status = f"{submission.status}: {submission.reason}" if submission.reason else submission.status
    return Result.nothing_graded(name, options.get("checks") or graded.checks, notice, status=status)


def grade_class(submissions, out=None, jobs=1, progress=True, hidden_visibility=None, assignment=None, cluster=None,
                **options):
    """Grade ``submissions`` (intake.Submission objects, or submission folders) and
    return their results in input order: in this process with one job, in ``jobs``
    worker processes, or on the dask cluster of the client ``cluster`` (see
    cluster.py). With ``out``, every file goes into a staging
    folder beside ``out`` (``.NAME.staging-*``): NAME.json and NAME.md per submission as
    each finishes, then grades.csv, summary.json, table.txt and report.html; the
    staging folder then replaces ``out`` whole, so no file of an earlier run survives."""
    options["assignment"] = graded = load(assignment)
    submissions = [s if isinstance(s, Submission) else submission_at(s, graded) for s in submissions]
    names = unique_names([s.name for s in submissions])
    # SIGTERM and SIGINT end the run without leaving a submission's copy or process,
    # or the staging folder (fresh_folder's handler runs first, then this one).
    with sandbox.removed_on_signals():
        if out is None:
            return _grade_all(submissions, names, None, jobs, cluster, progress, hidden_visibility, options)
        check_output_folder(out)
        threading.Thread(target=load_plotting, daemon=True).start()
        with fresh_folder(out) as staging:
            results = _grade_all(submissions, names, staging, jobs, cluster, progress, hidden_visibility, options)
            write_atomic(staging / "grades.csv", grades_csv(results, [s.source for s in submissions]))
            # The assignment is recorded for the gradebook export, which reads it here.
            summary = {"assignment": graded.name, "max_score": sum(c.points for c in graded.checks),
                       "submissions": [_summary_row(s, r) for s, r in zip(submissions, results)]}
            write_atomic(staging / "summary.json", json.dumps(summary, indent=2) + "\n")
            write_atomic(staging / "table.txt", class_table(results) + "\n")
            write_atomic(staging / "report.html", class_report_html(results, options["assignment"].catalogue))
        return results


def _grade_all(submissions, names, folder, jobs, cluster, progress, hidden_visibility, options):
    bar = Progress(len(submissions)) if progress and len(submissions) > 1 else None
    results = [None] * len(submissions)
    for i, result in _graded(list(zip(submissions, names)), jobs, cluster, options):
        results[i] = result
        if folder is not None:
            write_atomic(folder / f"{result.name}.json", results_json(result, hidden_visibility))
            write_atomic(folder / f"{result.name}.md", feedback_markdown(result))
        if bar:
            bar.step(result)
    return results


def _graded(work, jobs, cluster, options):
    """(index, Result) of each (submission, name) of ``work``, as each is graded: on
    the cluster, in this process with one job, else in ``jobs`` worker processes."""
    if cluster is not None:
        return _graded_on_cluster(work, cluster, options)
    if jobs == 1 or len(work) == 1:
        return ((i, _grade(submission, name, options)) for i, (submission, name) in enumerate(work))
    return _graded_in_workers(work, jobs, options)


def _graded_on_cluster(work, cluster, options):
    """What there is to send goes to the cluster; the rest (a missing folder, a zip
    refused) is graded, as nothing, here."""
    from .cluster import failure_sentence, graded_on_cluster, sendable
    checks = options["assignment"].checks
    sent = []
    for i, (submission, name) in enumerate(work):
        if sendable(submission):
            sent.append((i, submission, name))
        else:
            yield i, _grade(submission, name, options)
    for i, data in graded_on_cluster(cluster, sent, options):
        if isinstance(data, Exception):
            yield i, Result.nothing_graded(work[i][1], checks, failure_sentence(data),
                                           error=f"on the dask cluster: {type(data).__name__}: {data}")
        else:
            yield i, from_plain(data, checks)


def _graded_in_workers(work, jobs, options):
    """Grade ``work`` in ``jobs`` worker processes. A worker that dies (killed, out
    of memory) breaks its pool: the submissions then in flight are each graded
    again alone, in a pool of their own, and the rest go on in a fresh pool; a
    submission whose worker dies again, alone, is reported with a sentence and 0."""
    graded = options["assignment"]
    sent = {**options, "assignment": (graded.name, graded.course)}  # a Graded holds modules: it stays here
    waiting = deque(range(len(work)))
    while waiting:
        suspects = yield from _in_pool(work, waiting, jobs, sent, graded.checks)
        for i in suspects:
            if (yield from _in_pool(work, deque([i]), 1, sent, graded.checks)):
                yield i, Result.nothing_graded(work[i][1], graded.checks, WORKER_DIED,
                                               error="the worker process grading it died, twice")


def _in_pool(work, waiting, jobs, options, checks):
    """Grade the submissions ``waiting`` (indexes into ``work``, taken from the left)
    in a fresh pool of ``jobs`` workers, yielding (index, Result) as each finishes;
    return the indexes in flight if a worker died, which breaks the pool. Two per
    worker are handed out at a time: one to grade, and the next waiting, so that a
    worker never idles while its result travels back; and those in flight are known."""
    with ProcessPoolExecutor(jobs, mp_context=WORKERS, initializer=_start_worker,
                             initargs=(os.getpid(), options.get("launcher"))) as pool:
        running = {}
        while waiting or running:
            while waiting and len(running) < 2 * jobs:
                i = waiting.popleft()
                running[pool.submit(_grade_in_worker, *work[i], options)] = i
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                if not isinstance(future.exception(), BrokenProcessPool):
                    yield running.pop(future), from_plain(future.result(), checks)
            if any(isinstance(future.exception(), BrokenProcessPool) for future in done):
                return list(running.values())
    return []


def _start_worker(grader, launcher):
    """A worker dies with the ``grader`` (its parent's pid): the kernel sends it
    SIGTERM when the grader dies, however it died, and while the worker grades that
    signal removes its sandbox processes and copies first. Ctrl-C, which reaches
    every process of the terminal, is the grader's to handle. The worker's
    ``launcher`` (None: the default) gets ready while the first submission arrives."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != grader:  # it died before the kernel was told
        os.kill(os.getpid(), signal.SIGTERM)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        (launcher or sandbox.launcher()).prepare()
    except sandbox.SandboxUnavailable:  # each submission says so when it is graded
        pass


def _grade_in_worker(submission, name, options):
    """In a worker process: grade one submission, and return its Result as plain data."""
    options = {**options, "assignment": load(*options["assignment"])}
    with sandbox.removed_on_signals():
        return to_plain(_grade(submission, name, options))


def _summary_row(submission, result):
    row = {"name": result.name, "status": result.status, "score": result.score, "max_score": result.max_score,
           "source": submission.source, "results": f"{result.name}.json", "feedback": f"{result.name}.md",
           "protections": list(result.protections)}
    if submission.students:
        row["students"] = list(submission.students)
    return row
