"""The grader's command line: start-up, one submission, and the sandbox's overhead
(whole classes: classes.py)."""
import shutil
import statistics
import sys
from pathlib import Path

from autograder import sandbox
from autograder.assignments import ROOT, load, names
from autograder.demo import build_demo_class
from autograder.grade import grade_submission
from autograder.kit.runner import Launcher

from .sections import Section, fmt, run, seconds

PYTHON = sys.executable
# The one demo submission that hangs: every class is built without it, since each
# copy would cost the 5 s call timeout; its own time is measured on its own.
HANGING = "endless-loop"
SINGLE = "bn-unbiased-variance"  # a realistic submission: right in places, one misconception
CLI_TARGET = 2.0  # one submission from the command line, in start-ups of Python with numpy


class Pool:
    """The demo submissions, and classes made of copies of them."""

    def __init__(self, scratch):
        self.scratch = Path(scratch)
        self.demo = {f.name: f for f in build_demo_class(self.scratch / "demo")}
        self.cycle = [f for name, f in self.demo.items() if name != HANGING]

    def composition(self):
        return (f"copies of the {len(self.cycle)} demo submissions other than `{HANGING}`, in turn "
                f"({', '.join(f.name for f in self.cycle)})")

    def make_class(self, size, tag):
        """``size`` student folders, laid out like release/batchnorm, named student-NNN."""
        target = self.scratch / f"{tag}-{size}"
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        folders = []
        for i in range(size):
            folder = target / f"student-{i + 1:03d}"
            shutil.copytree(self.cycle[i % len(self.cycle)], folder)
            folders.append(folder)
        return folders


def startup_and_single(pool, repeat, hanging=True):
    """Start-up of Python with numpy, and one submission through the command line
    (with ``hanging``, also the demo submission that never returns), each against
    the start-up measured in the same run."""
    single = pool.demo[SINGLE]
    out = pool.scratch / "single.json"
    section = Section("One submission", ["what", "median wall time", "runs", "vs. baseline"])
    # Interleaved, as hyperfine would after a warm-up run of each, so that a change
    # in the machine's load hits both alike.
    commands = {"baseline": [PYTHON, "-c", "import numpy"],
                "cli_single": [PYTHON, "-m", "autograder", "grade", str(single), "--json", str(out)]}
    times = {what: [] for what in commands}
    for _ in range(repeat + 1):
        for what, argv in commands.items():
            times[what].append(seconds(lambda argv=argv: run(argv, cwd=ROOT), 1))
    baseline, cli = (statistics.median(times[what][1:]) for what in commands)
    section.rows.append(["`python -c \"import numpy\"` (baseline)", fmt(baseline), repeat, "1x"])
    section.rows.append([f"`python -m autograder grade {SINGLE} --json FILE`", fmt(cli), repeat,
                         f"{cli / baseline:.1f}x"])
    grade_submission(single)  # the reference's answers are kept per process from the first grading on
    in_process = seconds(lambda: grade_submission(single), repeat)
    section.rows.append(["`grade_submission()` in a warm process (no start-up)", fmt(in_process), repeat,
                         f"{in_process / baseline:.1f}x"])
    measured = {"baseline": baseline, "cli_single": cli, "in_process": in_process}
    if hanging:
        hang = seconds(lambda: grade_submission(pool.demo[HANGING]), 1)
        section.rows.append([f"`grade_submission()` of `{HANGING}` (one function never returns)", fmt(hang), 1, ""])
        section.notes.append("A hanging function costs the call timeout (5 s) once: the grader does not "
                             "call a function again after it timed out.")
    section.notes.append(f"`{SINGLE}` is the solution version with one catalogued mistake. The command and the "
                         "baseline run in turn, after one warm-up run each; the medians are of the runs after it.")
    return section, measured


def per_assignment(scratch, repeat):
    """Every assignment of the course side by side: the time to grade one of its demo
    submissions in a warm process (median of each, averaged over the class), and from
    the command line, start-up included, for its first catalogued mistake."""
    section = Section("Grading time per submission, by assignment",
                      ["assignment", "checks (points)", "demo submissions", "per submission, warm process",
                       "slowest submission", "command line, one submission"])
    measured = {}
    for name in names(ROOT):
        graded = load(name, ROOT)
        demo = [f for f in build_demo_class(Path(scratch) / f"demo-{name}", assignment=graded) if f.name != HANGING]
        for folder in demo:  # the reference's answers are kept per process from the first grading on
            grade_submission(folder, assignment=graded)
        warm = [seconds(lambda folder=folder: grade_submission(folder, assignment=graded), repeat) for folder in demo]
        single = next(f for f in demo if f.name == graded.catalogue[0].id)
        out = Path(scratch) / f"{name}.json"
        cli = seconds(lambda: run([PYTHON, "-m", "autograder", "grade", str(single), "--assignment", name,
                                   "--json", str(out)], cwd=ROOT), repeat)
        measured[name] = statistics.mean(warm)
        section.rows.append([f"`{name}`", f"{len(graded.checks)} ({sum(c.points for c in graded.checks):g})",
                             len(demo), fmt(measured[name]), fmt(max(warm)), f"{fmt(cli)} (`{single.name}`)"])
    section.notes.append(f"Each assignment's demo class but `{HANGING}` (the untouched release, the reference, one "
                         f"submission per catalogued mistake, a syntax error), each graded {repeat} times in one "
                         "warm process with the default launcher; the median of each submission, averaged over "
                         "the class. The command line grades the first catalogued mistake, start-up included "
                         f"(median of {repeat}).")
    return section, {"per_assignment": measured}


def sandbox_overhead(pool, repeat):
    """grade_submission with its default launcher against a plain child process."""
    single = pool.demo[SINGLE]
    launchers = [("default launcher", None), ("plain child process (`selfcheck.runner.Launcher()`)",
                                               Launcher())]
    notes = []
    options = [("a bubblewrap sandbox per child (`BubblewrapLauncher()`)", sandbox.BubblewrapLauncher),
               ("`autograder.sandbox.launcher('limits')`", lambda: sandbox.launcher("limits"))]
    for label, make in options:
        try:
            launchers.append((label, make()))
        except sandbox.SandboxUnavailable as err:  # reported, not fatal
            notes.append(f"{label} is unavailable here: {err}")
    section = Section("Sandbox overhead", ["launcher", "median grade_submission()", "fastest - slowest", "overhead"])
    protections = [grade_submission(single, launcher=launcher).protections for _, launcher in launchers]
    times = [[] for _ in launchers]
    for _ in range(repeat):  # round-robin, so that a change in the machine's load hits every launcher alike
        for i, (_, launcher) in enumerate(launchers):
            times[i].append(seconds(lambda: grade_submission(single, launcher=launcher), 1))
    medians = [statistics.median(t) for t in times]
    plain, noise = medians[1], max(max(t) - min(t) for t in times)
    for i, (label, _) in enumerate(launchers):
        overhead = "" if i == 1 else f"{medians[i] - plain:+.3f} s ({medians[i] / plain - 1:+.0%})"
        section.rows.append([label, fmt(medians[i]), f"{fmt(min(times[i]))} - {fmt(max(times[i]))}", overhead])
    largest = max(abs(m - plain) for m in medians)
    section.notes += notes + [
        f"{repeat} gradings of `{SINGLE}` with each launcher, taken in turn in one warm process; every grading "
        "starts one child process (more when a function crashes or hangs).",
        (f"Every difference from the plain child process (at most {largest:.3f} s) is smaller than the spread "
         f"between runs of one launcher (up to {noise:.3f} s): the sandbox's overhead is not measurable here."
         if largest < noise else
         f"The largest difference from the plain child process, {largest:.3f} s, exceeds the spread between "
         f"runs of one launcher (up to {noise:.3f} s)."),
        "Protections of the default launcher: " + "; ".join(protections[0]) + "."]
    return section, {"sandbox_default": medians[0], "sandbox_plain": plain}
