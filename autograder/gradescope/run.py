"""What ``run_autograder`` does on Gradescope: grade ``ROOT/submission`` and write
``ROOT/results/results.json``."""
import os
import stat
from pathlib import Path

from .. import sandbox
from ..grade import DEFAULT_BUDGET, DEFAULT_TIMEOUT, grade_submission, links_notice
from ..reports.files import write_atomic
from ..reports.results import results_json


def modules_folder(submission, modules):
    """(folder, links): the folder that holds the student's modules, i.e. the
    submission itself or the shallowest folder below it that holds any of the
    ``modules`` (a student who uploads a zipped folder gets it unpacked one level
    down), and the links met on the way. The search never enters
    a link (an upload from git keeps them, and one could point at the reference
    solution), so the folder found always lies inside the submission."""
    submission = Path(submission)
    found, links, level = None, [], [submission]
    while level and found is None:
        below = []
        for folder in level:
            entries = _entries(folder)
            if found is None and any(stat.S_ISREG(entries.get(name, 0)) for name in modules):
                found = folder
            for name, mode in sorted(entries.items()):
                if name.startswith((".", "__")):
                    continue
                if stat.S_ISLNK(mode):
                    links.append(str((folder / name).relative_to(submission)))
                elif stat.S_ISDIR(mode):
                    below.append(folder / name)
        level = below
    found = found or submission
    # The modules of the folder found that are links are the copy's to report.
    return found, [link for link in links if not (link.endswith(".py") and (submission / link).parent == found)]


def _entries(folder):
    """{name: mode} of ``folder``'s entries, links not followed."""
    try:
        with os.scandir(folder) as entries:
            return {e.name: e.stat(follow_symlinks=False).st_mode for e in entries}
    except OSError:
        return {}


def run(root, graded, hidden_visibility=None, timeout=DEFAULT_TIMEOUT, launcher=None, budget=DEFAULT_BUDGET):
    """Grade ``root/submission`` with the checks of assignment ``graded``, write
    ``root/results/results.json``, return the Result. ``launcher`` confines the
    student's code (default: the sandbox's best here). What is printed goes to the
    instructor's log, never to the student."""
    root = Path(root)
    folder, links = modules_folder(root / "submission", graded.spec.modules)
    print(f"grading the {graded.name} modules in {folder} with the autograder in "
          f"{Path(__file__).resolve().parent.parent}")
    with sandbox.removed_on_signals():
        result = grade_submission(folder, assignment=graded, timeout=timeout, budget=budget, name="submission",
                                  launcher=launcher)
    result.notice = " ".join(filter(None, [links_notice(links), result.notice]))
    write_atomic(root / "results" / "results.json", results_json(result, hidden_visibility))
    print(f"score {result.score:g} / {result.max_score:g}; protections: {', '.join(result.protections)}")
    return result
