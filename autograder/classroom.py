"""Grade many submissions, in parallel, and write their files as each finishes."""
import json
import re
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from . import sandbox
from .grade import grade_submission
from .reports.class_report import class_report_html
from .reports.files import write_atomic
from .reports.results import results_json
from .reports.tables import class_table, feedback_markdown, grades_csv


RESERVED = {"grades", "summary", "table", "report"}  # the class files written beside them


def unique_names(folders):
    """A file-safe name per submission: its folder name, made unique if needed, and
    never one that would overwrite the class files."""
    names, taken = [], set(RESERVED)
    for folder in folders:
        base = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(folder).resolve().name) or "submission"
        name, n = base, 1
        while name in taken:
            n += 1
            name = f"{base}-{n}"
        taken.add(name)
        names.append(name)
    return names


class Progress:
    """One line on stderr, rewritten in place: done/total, elapsed and ETA."""

    def __init__(self, total, stream=sys.stderr):
        self.total, self.done, self.start, self.stream = total, 0, time.monotonic(), stream

    def step(self, name):
        self.done += 1
        elapsed = time.monotonic() - self.start
        eta = elapsed / self.done * (self.total - self.done)
        bar = "#" * int(30 * self.done / self.total)
        self.stream.write(f"\r[{bar:<30}] {self.done}/{self.total} {elapsed:5.1f}s elapsed, "
                          f"ETA {eta:5.1f}s  {name[:30]:<30}")
        if self.done == self.total:
            self.stream.write("\n")
        self.stream.flush()


def grade_class(folders, out=None, jobs=1, progress=True, hidden_visibility=None, **options):
    """Grade ``folders``; with ``out``, write NAME.json and NAME.md per submission as
    it finishes, then grades.csv, summary.json, table.txt and report.html. Returns results in input order.
    SIGTERM and SIGINT end it without leaving a submission's copy or process behind."""
    names = unique_names(folders)
    bar = Progress(len(folders)) if progress and len(folders) > 1 else None
    results = [None] * len(folders)
    with sandbox.removed_on_signals(), ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {pool.submit(grade_submission, folder, name=name, **options): i
                   for i, (folder, name) in enumerate(zip(folders, names))}
        for future in as_completed(futures):
            i = futures[future]
            result = results[i] = future.result()
            if out is not None:
                write_atomic(Path(out) / f"{result.name}.json", results_json(result, hidden_visibility))
                write_atomic(Path(out) / f"{result.name}.md", feedback_markdown(result))
            if bar:
                bar.step(result.name)
    if out is not None:
        write_atomic(Path(out) / "grades.csv", grades_csv(results))
        summary = {"submissions": [{"name": r.name, "score": r.score, "max_score": r.max_score,
                                    "results": f"{r.name}.json", "feedback": f"{r.name}.md"} for r in results]}
        write_atomic(Path(out) / "summary.json", json.dumps(summary, indent=2) + "\n")
        write_atomic(Path(out) / "table.txt", class_table(results) + "\n")
        write_atomic(Path(out) / "report.html", class_report_html(results))
    return results
