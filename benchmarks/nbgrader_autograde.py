"""The same submissions through ``nbgrader autograde``, the tool instructors use today:
it executes each submission's three notebooks (small experiments, no figures, unless
BATCHNORM_FULL_EXPERIMENTS=1), and grades their module grade cells in its own process."""
import os
import shutil
import sys
from pathlib import Path

import nbformat

from autograder.assignments import load
from autograder.notebook import grade_cells

from .grading import SINGLE, Pool
from .sections import Section, fmt, run, seconds

GRADED = load("batchnorm")
MASTER = GRADED.master
ROOT = GRADED.course
GRADE_CELLS = grade_cells(GRADED)

NBGRADER = Path(sys.executable).with_name("nbgrader")
ASSIGNMENT = "batchnorm"


TARGET_PER_STUDENT = 10.0  # seconds


def notebooks_have_grade_cells():
    ids = {cell.get("id") for path in MASTER.glob("*.ipynb") for cell in nbformat.read(path, as_version=4).cells}
    return set(GRADE_CELLS) <= ids


class Course:
    """A throw-away nbgrader course: the repository's nbgrader_config.py (its paths
    follow the file) and a copy of the master, with the assignment generated."""

    def __init__(self, folder):
        self.root = Path(folder)
        shutil.rmtree(self.root, ignore_errors=True)
        (self.root / "assignment").mkdir(parents=True)
        shutil.copy(ROOT / "nbgrader_config.py", self.root)
        shutil.copytree(MASTER, self.root / "assignment" / ASSIGNMENT,
                        ignore=shutil.ignore_patterns("__pycache__", "executed"))
        jupyter = self.root / ".jupyter"
        self.env = dict(os.environ, JUPYTER_CONFIG_DIR=str(jupyter / "config"),
                        JUPYTER_DATA_DIR=str(jupyter / "data"), JUPYTER_RUNTIME_DIR=str(jupyter / "runtime"),
                        JUPYTER_PLATFORM_DIRS="1", PATH=f"{NBGRADER.parent}{os.pathsep}{os.environ['PATH']}")
        self.nbgrader("generate_assignment", ASSIGNMENT, "--force")

    def nbgrader(self, *args):
        return run([str(NBGRADER), *args], cwd=self.root, env=self.env)

    def submit(self, folders):
        for i, folder in enumerate(folders):
            shutil.copytree(folder, self.root / "submitted" / f"student-{i + 1:03d}" / ASSIGNMENT,
                            ignore=shutil.ignore_patterns("__pycache__"))

    def autograde(self, **env):
        return run([str(NBGRADER), "autograde", ASSIGNMENT, "--create", "--force"], cwd=self.root,
                   env={**self.env, **env})

    def module_scores(self):
        """{student: sum of the module grade cells}, from the gradebook."""
        from nbgrader.api import Gradebook
        with Gradebook(f"sqlite:///{self.root / 'gradebook.db'}") as gradebook:
            return {s.student.id: sum(g.score for nb in s.notebooks for g in nb.grades if g.name in GRADE_CELLS)
                    for s in gradebook.assignment_submissions(ASSIGNMENT)}


def autograde_vs_cli(pool: Pool, class_size, cli_single, cli_per_submission, cli_class_size):
    """nbgrader autograde of one submission and of a class of ``class_size``, with
    the ratios to the command line's times for the same submissions."""
    section = Section("nbgrader autograde vs. the command line",
                      ["what", "nbgrader autograde", "python -m autograder grade", "ratio"])
    single = Course(pool.scratch / "course-single")
    single.submit([pool.demo[SINGLE]])
    nb_single = seconds(single.autograde, 1)
    section.rows.append([f"one submission (`{SINGLE}`)", fmt(nb_single), fmt(cli_single),
                         f"{nb_single / cli_single:.1f}x"])
    nb_full = seconds(lambda: single.autograde(BATCHNORM_FULL_EXPERIMENTS="1"), 1)
    section.rows.append(["one submission, full experiments (BATCHNORM_FULL_EXPERIMENTS=1)", fmt(nb_full),
                         fmt(cli_single), f"{nb_full / cli_single:.1f}x"])
    folders = pool.make_class(class_size, "nbgrader")
    course = Course(pool.scratch / "course-class")
    course.submit(folders)
    nb_class = seconds(course.autograde, 1) / class_size
    section.rows.append([f"per submission in a class of {class_size} (serial)", fmt(nb_class),
                         fmt(cli_per_submission), f"{nb_class / cli_per_submission:.1f}x"])
    cli_scores = _cli_scores(folders)
    nb_scores = course.module_scores()
    agree = sum(nb_scores.get(name) == score for name, score in cli_scores.items())
    section.notes += [
        f"The class is the first {class_size} submissions of the command line's classes. The command "
        f"line's per-submission time is from its class of {cli_class_size} with 1 job (nbgrader autograde is serial).",
        "nbgrader executes the three notebooks of every submission, each in a fresh kernel: small "
        "versions of their experiments without figures (the full ones with BATCHNORM_FULL_EXPERIMENTS=1). "
        "The module grade cells are graded once per submission, in nbgrader's own process, as on the "
        "command line, which grades the modules only. Each nbgrader command also pays about 3 s to start.",
        f"Same grades: the grade cells' scores in nbgrader's gradebook equal the command line's totals "
        f"for {agree} of {len(cli_scores)} submissions."]
    return section, {"nbgrader_single": nb_single, "nbgrader_per_submission": nb_class,
                     "nbgrader_full_single": nb_full}


def _cli_scores(folders):
    from autograder.classroom import grade_class
    return {Path(f).name: r.score for f, r in zip(folders, grade_class(folders, jobs=2, progress=False))}
