"""Whole classes through the command line with 1 and 2 jobs: wall time, the speed-up
of worker processes, whether the cost is linear in the class's size, and the peak
memory of the grading process and of its largest child."""
import json
import shutil
import sys

from autograder.assignments import ROOT

from .sections import Section, Target, fmt, run, seconds

PYTHON = sys.executable
# The command line, reporting its own peak memory and that of its largest child
# (a worker, or a sandboxed child) on its last line of stderr.
MEASURED_GRADER = ("import json, resource, sys\nfrom autograder.cli import main\ncode = main(sys.argv[1:])\n"
                   "peak = {who: resource.getrusage(getattr(resource, who)).ru_maxrss * 1024 "
                   "for who in ('RUSAGE_SELF', 'RUSAGE_CHILDREN')}\nprint(json.dumps(peak), file=sys.stderr)\n"
                   "sys.exit(code)")
TARGET_500 = 45.0  # seconds, with 2 jobs
TARGET_SPEEDUP = 1.8  # 2 jobs over 1, at 200 submissions
TARGET_LINEAR = 0.10  # per-submission time at 500 within 10% of that at 50


def grade_command(folders, out, jobs):
    return [PYTHON, "-c", MEASURED_GRADER, "grade", *map(str, folders), "--out", str(out), "--jobs", str(jobs)]


def classes(pool, sizes, jobs_list, extra=()):
    """Whole classes through ``python -m autograder grade ... --out DIR --jobs N``.
    ``extra`` lists further (size, jobs) pairs measured once, e.g. (500, 2)."""
    section = Section("Classes", ["submissions", "jobs", "wall time", "per submission", "vs. 1 job",
                                  "peak memory: grader", "largest child"])
    measured, memory = {}, {}
    for size, jobs in [(size, jobs) for size in sizes for jobs in jobs_list] + list(extra):
        folders = pool.make_class(size, "class")
        out = pool.scratch / f"grades-{size}-{jobs}"
        done = []
        measured[size, jobs] = wall = seconds(lambda: done.append(run(grade_command(folders, out, jobs), cwd=ROOT)), 1)
        memory[size, jobs] = peak = json.loads(done[-1].stderr.strip().splitlines()[-1])
        graded = len(list(out.glob("student-*.json")))
        if graded != size:
            raise RuntimeError(f"the class of {size} produced {graded} result files")
        serial = measured.get((size, 1))
        speedup = f"{serial / wall:.2f}x faster" if serial and jobs > 1 else ""
        section.rows.append([size, jobs, fmt(wall), fmt(wall / size), speedup, fmt(peak["RUSAGE_SELF"] / 2**20, "MiB"),
                             fmt(peak["RUSAGE_CHILDREN"] / 2**20, "MiB")])
        shutil.rmtree(pool.scratch / f"class-{size}")
        shutil.rmtree(out)
    section.notes.append(f"Each class is {pool.composition()}. Wall time includes the command's start-up "
                         "and writing every result, feedback file, grades.csv and the HTML class report. With more "
                         "than 1 job, each job is a worker process; 1 job grades in the command's own process.")
    section.notes.append("Peak memory is the largest resident set size (ru_maxrss) of the command's own process, "
                         "and of the largest of its children (a worker process, or a sandboxed child running "
                         "student code).")
    for jobs in jobs_list:
        per = [(s, measured[s, j] / s) for s, j in measured if j == jobs]
        if len(per) > 1:
            (small, a), (large, b) = min(per), max(per)
            section.notes.append(f"With {jobs} job{'s' if jobs > 1 else ''}, the time per submission at {large} "
                                 f"submissions is {b / a:.2f}x that at {small}.")
            # Wall time as a fixed cost (start-up, the class report) plus a cost per submission,
            # through the smallest and largest class; a middle class shows whether it is a line.
            marginal = (b * large - a * small) / (large - small)
            fixed = a * small - marginal * small
            middle = [f"{s} submissions: {fmt(fixed + marginal * s)} predicted, {fmt(measured[s, jobs])} measured"
                      for s, j in measured if j == jobs and small < s < large]
            section.notes.append(f"As a line: {fmt(fixed)} fixed (start-up, the class report) + {fmt(marginal)} per "
                                 f"submission" + (f"; {'; '.join(middle)}." if middle else "."))
    return section, {"classes": measured, "class_memory": memory}


def targets(measured):
    """The targets of the class benchmarks, judged on what was measured."""
    classes, memory = measured["classes"], measured["class_memory"]
    found = []
    if (500, 2) in classes:
        found.append(Target(f"a class of 500 in at most {TARGET_500:g} s with 2 jobs", fmt(classes[500, 2]),
                            classes[500, 2] <= TARGET_500))
    else:
        largest = max(s for s, j in classes if j == 2)
        estimate = classes[largest, 2] / largest * 500
        found.append(Target(f"a class of 500 in at most {TARGET_500:g} s with 2 jobs",
                            f"about {fmt(estimate)} (extrapolated from {largest} submissions)", estimate <= TARGET_500))
    both = [s for s, j in classes if j == 2 and (s, 1) in classes]
    size = 200 if 200 in both else max(both)
    speedup = classes[size, 1] / classes[size, 2]
    found.append(Target(f"2 jobs at least {TARGET_SPEEDUP:g}x faster than 1 job on a class of 200",
                        f"{speedup:.2f}x at {size} submissions", speedup >= TARGET_SPEEDUP))
    sizes = sorted(s for s, j in classes if j == 2)
    ratio = (classes[sizes[-1], 2] / sizes[-1]) / (classes[sizes[0], 2] / sizes[0])
    found.append(Target("cost linear in class size: per-submission time at 500 within 10% of that at 50 (2 jobs)",
                        f"{ratio:.2f}x at {sizes[-1]} vs. {sizes[0]}", abs(ratio - 1) <= TARGET_LINEAR))
    largest = max(memory)
    peak = memory[largest]
    found.append(Target("peak memory of the grading process for a class of 500: bounded and recorded",
                        f"{fmt(peak['RUSAGE_SELF'] / 2**20, 'MiB')} at {largest[0]} submissions, {largest[1]} jobs "
                        f"(largest child {fmt(peak['RUSAGE_CHILDREN'] / 2**20, 'MiB')}); at {min(memory)[0]}: "
                        f"{fmt(memory[min(memory)]['RUSAGE_SELF'] / 2**20, 'MiB')}", None if largest[0] < 500 else
                        peak["RUSAGE_SELF"] < 2 * memory[min(memory)]["RUSAGE_SELF"]))
    return found
