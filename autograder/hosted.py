"""What the hosted front ends share (Gradescope's ``gradescope/``, PrairieLearn's
``prairielearn/``): grading one student's upload inside the platform's container.

Each platform puts the grader's files in a folder directly inside its root
(``/autograder/source``, ``/grade/tests``), the student's upload in another
(``/autograder/submission``, ``/grade/student``), runs our entry script as root and
reads one results file. What both front ends ship and do is kept here: the
grader's files and the packages grading needs, and for every upload, lock the
grader's own files away from the student's uid, find the modules in what was
uploaded, and grade them in the sandbox.
"""
import os
import stat
from dataclasses import replace
from pathlib import Path

from . import sandbox
from .assignments import ROOT
from .grade import Result, grade_submission, links_notice
from .intake import find_modules, unfound
from .kit.runner.client import CHILD
from .sandbox.launchers import CONFINE

PACKAGE = Path(__file__).resolve().parent
# What the grading process and the student's child process import: nothing else of
# requirements.txt (Jupyter, nbgrader, matplotlib) is needed on a platform.
GRADING_PACKAGES = ("numpy",)


def pinned_requirements(requirements=ROOT / "requirements.txt", packages=GRADING_PACKAGES):
    """The lines of ``requirements`` that pin ``packages``; each must be pinned with ==."""
    pins = {}
    for line in requirements.read_text().splitlines():
        name, sep, version = line.strip().partition("==")
        if sep:
            pins[name.strip().lower()] = line.strip()
    missing = [p for p in packages if p.lower() not in pins]
    if missing:
        raise ValueError(f"{requirements} pins no version of {', '.join(missing)}; "
                         "add 'name==version' lines for them")
    return "".join(pins[p.lower()] + "\n" for p in packages)


def grader_files(graded):
    """{path: bytes} of what grading assignment ``graded`` needs, laid out as a course
    of its own: the ``autograder`` package, and the assignment's reference modules and
    ``grading/`` package in ``assignment/NAME/``."""
    files = dict(_tree(PACKAGE, "autograder"))
    master = f"assignment/{graded.name}"
    files.update({f"{master}/{path.name}": path.read_bytes() for path in sorted(graded.master.glob("*.py"))})
    files.update(_tree(graded.master / "grading", f"{master}/grading"))
    return files


def _tree(folder, base):
    """(path, bytes) of every file under ``folder``, without caches or hidden files."""
    for path in sorted(folder.rglob("*")):
        parts = path.relative_to(folder).parts
        if path.is_file() and not any(p.startswith(".") or p == "__pycache__" for p in parts) \
                and path.suffix != ".pyc":
            yield f"{base}/{'/'.join(parts)}", path.read_bytes()


def lock_grader_files(root):
    """When the grader runs from a folder directly inside the platform's ``root``
    (its copy in the container), make its files unreadable to other users, except
    what the fallback sandbox's unprivileged uid must read to run a child (the
    runner, confine.py); the reference solution and the hidden checks in
    ``assignment/`` stay root's alone. Bubblewrap shows the child none of it
    anyway; the fallback shows it the disk. A grader run from elsewhere (a checkout
    of the course) leaves its files as they are."""
    root, source = Path(root).resolve(), PACKAGE.parent
    if source.parent != root:
        return
    for top in (PACKAGE, source / "assignment"):
        for folder, _, files in os.walk(top):
            for path in [folder, *(os.path.join(folder, name) for name in files)]:
                _set_mode(path, lambda mode: mode & 0o7700)
    for path in (CHILD.resolve().parent, CONFINE.resolve()):
        for folder in path.parents:
            if folder == root or root in folder.parents:
                _set_mode(folder, lambda mode: mode | 0o001)  # passed through, not listed
        for folder, _, files in os.walk(path):
            _set_mode(folder, lambda mode: mode | 0o005)
            for name in files:
                _set_mode(os.path.join(folder, name), lambda mode: mode | 0o004)
        if path.is_file():
            _set_mode(path, lambda mode: mode | 0o004)


def _set_mode(path, change):
    """Change the permissions of ``path``, never of what a link points to."""
    mode = os.lstat(path).st_mode
    if not stat.S_ISLNK(mode):
        os.chmod(path, change(stat.S_IMODE(mode)))


def modules_folder(upload, graded):
    """The Search (intake.find_modules, the rule every front end shares) for the
    student's modules of assignment ``graded`` in ``upload``; its links are those met
    on the way, never followed, less the modules of the folder found, which the copy
    reports."""
    search = find_modules(upload, graded)
    return replace(search, links=tuple(link for link in search.links if not (
        link.endswith(".py") and search.folder and (Path(upload) / link).parent == search.folder)))


def grade_upload(search, graded, *, timeout, budget, launcher):
    """Grade the modules ``search`` (of ``modules_folder``) found with the checks of
    assignment ``graded``; the Result's notice names the links left out. An upload
    in which no one folder holds modules scores 0, with the one sentence that says
    why. What is printed goes to the instructor's log, never to the student."""
    if search.folder is None:
        status, reason, sentence = unfound(search, graded)
        print(f"nothing graded: {status}" + (f": {reason}" if reason else ""))
        result = Result.nothing_graded("submission", graded.checks, sentence, status=status)
    else:
        print(f"grading the {graded.name} modules in {search.folder} with the autograder in {PACKAGE}")
        with sandbox.removed_on_signals():
            result = grade_submission(search.folder, assignment=graded, timeout=timeout, budget=budget,
                                      name="submission", launcher=launcher)
    result.notice = " ".join(filter(None, [links_notice(search.links), result.notice]))
    print(f"score {result.score:g} / {result.max_score:g}; protections: {', '.join(result.protections)}")
    return result
