"""python -m benchmarks: run every benchmark, print each table as it finishes, judge
the targets, and with --write save it all as Markdown (docs/benchmarks.md)."""
import argparse
import os
import sys
import tempfile
from pathlib import Path

from autograder.reports.files import write_atomic

from . import calls, classes, grading, machine, nbgrader_autograde, numerics
from .sections import Section, Target, fmt

FULL = {"repeat": 5, "sizes": (50, 200), "extra": ((500, 2),), "nbgrader_class": 4, "hanging": True,
        "calls": 2000, "starts": 30}
QUICK = {"repeat": 2, "sizes": (3, 6), "extra": (), "nbgrader_class": 2, "hanging": False,
         "calls": 200, "starts": 3}


def _parser():
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true",
                        help="small classes and few repeats: checks that everything runs, in about a minute")
    parser.add_argument("--no-nbgrader", action="store_true", help="skip nbgrader autograde (the slowest part)")
    parser.add_argument("--torch-from", type=Path, metavar="DIR",
                        help="a folder PyTorch is installed in (pip install --target DIR torch), for the "
                             "optional comparison with PyTorch; it is never a dependency of the project")
    parser.add_argument("--write", type=Path, metavar="FILE", help="write the results as Markdown")
    return parser


def targets(measured):
    found = call_targets(measured)
    if "nbgrader_per_submission" in measured:
        ratio = measured["nbgrader_per_submission"] / measured["cli_per_submission"]
        single = measured["nbgrader_single"] / measured["cli_single"]
        found.append(Target("command line at least 4x faster per submission than nbgrader autograde",
                            f"{ratio:.1f}x per submission in a class, {single:.1f}x for one submission alone",
                            ratio >= 4 and single >= 4))
        per_student = measured["nbgrader_per_submission"]
        found.append(Target(f"nbgrader autograde at most {nbgrader_autograde.TARGET_PER_STUDENT:g} s per student",
                            f"{fmt(per_student)} per student in a class, {fmt(measured['nbgrader_single'])} for "
                            f"one alone (full experiments: {fmt(measured['nbgrader_full_single'])})",
                            per_student <= nbgrader_autograde.TARGET_PER_STUDENT))
    else:
        for goal in ("command line at least 4x faster per submission than nbgrader autograde",
                     f"nbgrader autograde at most {nbgrader_autograde.TARGET_PER_STUDENT:g} s per student"):
            found.append(Target(goal, "nbgrader autograde was not run", None))
    found += classes.targets(measured)
    speedup = measured["alt_speedup"][100, 500]
    found.append(Target("backward_alt at least 1.5x faster than the staged backward at N=100, D=500",
                        f"{speedup:.2f}x", speedup >= 1.5))
    return found


def call_targets(measured):
    """One submission from the command line, and one call to the child."""
    ratio = measured["cli_single"] / measured["baseline"]
    return [Target(f"one submission from the command line at most {grading.CLI_TARGET:g}x the "
                   "`python -c \"import numpy\"` start-up",
                   f"{ratio:.1f}x ({fmt(measured['cli_single'])} vs. {fmt(measured['baseline'])})",
                   ratio <= grading.CLI_TARGET),
            Target(f"a call to the child with a small array at most {calls.TARGET * 1e3:g} ms (median)",
                   f"{calls.micro(measured['call'])} ({measured['call'] / measured['bare_pipe']:.0f}x a bare pipe "
                   f"round trip, {calls.micro(measured['bare_pipe'])})", measured["call"] <= calls.TARGET)]


def markdown(description, sections, found, command):
    lines = ["# Benchmarks", "",
             f"Produced by `{command}` (also `make bench`); every number below comes from that one run on "
             "the machine described here. Rerun it after a change to the grader, the sandbox or the notebooks.",
             "", "| machine | |", "|---|---|"]
    lines += [f"| {what} | {value} |" for what, value in description]
    lines += ["", "## Targets", "", "| target | measured | verdict |", "|---|---|---|"]
    lines += [f"| {t.goal} | {t.measured} | **{t.verdict}** |" for t in found]
    lines.append("")
    return "\n".join(lines + [s.markdown() for s in sections])


def main(argv=None):
    args = _parser().parse_args(argv)
    plan = QUICK if args.quick else FULL
    description = machine.describe()
    print("\n".join(f"{what}: {value}" for what, value in description), flush=True)
    sections, measured = [], {}

    def record(result):
        section, numbers = result
        sections.append(section)
        measured.update(numbers)
        print("\n" + section.text(), flush=True)

    with tempfile.TemporaryDirectory(prefix="batchnorm-bench-") as scratch:
        pool = grading.Pool(scratch)
        record(grading.startup_and_single(pool, plan["repeat"], plan["hanging"]))
        record(calls.round_trip(plan["calls"]))
        record(calls.child_start(plan["starts"]))
        record(grading.per_assignment(scratch, plan["repeat"]))
        record(classes.classes(pool, plan["sizes"], (1, 2), plan["extra"]))
        measured["cli_per_submission"] = measured["classes"][plan["sizes"][0], 1] / plan["sizes"][0]
        if args.no_nbgrader:
            sections.append(Section("nbgrader autograde vs. the command line", [], notes=["Not run (--no-nbgrader)."]))
        elif not nbgrader_autograde.notebooks_have_grade_cells():
            sections.append(Section("nbgrader autograde vs. the command line", [], notes=[
                "Not measurable yet: the master notebooks lack module grade cells."]))
        else:
            record(nbgrader_autograde.autograde_vs_cli(pool, plan["nbgrader_class"], measured["cli_single"],
                                                       measured["cli_per_submission"], plan["sizes"][0]))
        record(grading.sandbox_overhead(pool, 2 * plan["repeat"]))
    record(numerics.backward_speed(plan["repeat"] + 1))
    record(numerics.against_torch(plan["repeat"] + 1, args.torch_from))
    record(numerics.gradient_checks(plan["repeat"]))

    description.append(("load average when the run ended", ", ".join(f"{v:.2f}" for v in os.getloadavg())))
    found = targets(measured)
    print("\n== Targets")
    for t in found:
        print(f"{t.verdict:>12}: {t.goal}: {t.measured}")
    if args.write:
        command = ("python -m benchmarks" + (" --quick" if args.quick else "")
                   + (" --no-nbgrader" if args.no_nbgrader else "") + (" --torch-from DIR" if args.torch_from else ""))
        write_atomic(args.write, markdown(description, sections, found, command))
        print(f"\nwrote {args.write}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
