"""python -m autograder: the grader's command line (SPEC §3)."""
import argparse
import contextlib
import os
import sys
from pathlib import Path

from . import cluster, export
from .assignments import UnknownAssignment, names
from .classroom import check_output_folder, grade_class
from .intake import Finder, UsageError
from .kit.report import check_list
from .options import (
    add_assignment_options,
    add_grading_options,
    add_sandbox_options,
    graded_from_args,
    launcher_from_args,
    positive,
)
from .reports.escape import shown
from .reports.files import write_atomic
from .reports.results import results_json
from .reports.tables import class_table, feedback_markdown


def _report_faults(results):
    """The grader's own failures go to the instructor, on stderr; students see a
    plain sentence in their feedback."""
    for what, why in (fault for result in results for fault in result.faults):
        print(f"warning: the grader failed on {what}: {why}", file=sys.stderr)


def _report_ungraded(submissions, results, graded):
    """Submissions with nothing to grade, for the instructor, on stderr; the exit
    status: 1 when not one of them holds a module anywhere (a class graded as the
    wrong assignment, say), else 0."""
    for submission, result in zip(submissions, results):
        if submission.status == "no modules found":
            why = f" ({submission.reason}; is it --assignment {submission.other}?)" if submission.other else ""
            print(f"warning: {result.name} ({submission.source}) holds no student module of {graded.name}{why}; "
                  "graded 0", file=sys.stderr)
        elif submission.status != "graded":
            print(f"warning: {result.name} graded 0: {submission.source} was refused: {submission.reason}",
                  file=sys.stderr)
    if not submissions or any(s.status != "no modules found" for s in submissions):
        return 0
    others = sorted({s.other for s in submissions if s.other})
    hint = f"; they hold {' and '.join(others)}'s: grade them with --assignment {others[0]}" if others else ""
    print(f"error: not one submission holds a student module of {graded.name} "
          f"({', '.join(graded.spec.modules)}), so every row scored 0{hint}.", file=sys.stderr)
    return 1


def _parser():
    parser = argparse.ArgumentParser(prog="python -m autograder",
                                     description="Grade an assignment's submissions with its hidden checks.")
    verbs = parser.add_subparsers(dest="verb", required=True)
    grade = verbs.add_parser("grade", help="grade submissions, class folders, nbgrader or Gradescope exports, zips")
    grade.add_argument("submissions", nargs="+", type=Path, metavar="PATH",
                       help="a submission folder (laid out like release/NAME), a class folder of them, "
                            "nbgrader's submitted/ folder, a Gradescope export, or a .zip of any of these")
    add_assignment_options(grade)
    where = grade.add_mutually_exclusive_group()
    where.add_argument("--json", type=Path, metavar="FILE", help="write the result file (one submission)")
    where.add_argument("--out", type=Path, metavar="DIR",
                       help="write NAME.json and NAME.md per submission, grades.csv, summary.json, table.txt "
                            "and report.html into a staging folder beside DIR (.DIR.staging-*), which then "
                            "replaces DIR whole")
    grade.add_argument("--jobs", type=positive(int), default=1, metavar="N",
                       help="submissions graded at once, each in a worker process of its own (default 1: in this "
                            "process)")
    grade.add_argument("--dask", metavar="ADDRESS", default=os.environ.get(cluster.ADDRESS_VARIABLE),
                       help="grade on the dask.distributed cluster whose scheduler is at ADDRESS (default: "
                            f"${cluster.ADDRESS_VARIABLE}, if set), one task per submission; --jobs is then the "
                            "cluster's business (see docs/cluster.md; needs the optional extra "
                            f"{cluster.REQUIREMENTS})")
    add_grading_options(grade)
    listing = verbs.add_parser("checks", help="list the checks of an assignment with their points, by part and "
                                              "by the function each judges")
    add_assignment_options(listing)
    record = verbs.add_parser("record", help="regenerate the public checks' expected answers from the reference "
                                             "(of every assignment, unless --assignment names one)")
    add_assignment_options(record)
    exporting = verbs.add_parser("export", help="write grades for a gradebook: the file Canvas imports, or a plain "
                                             "long format any LMS or spreadsheet reads")
    formats = exporting.add_subparsers(dest="format", required=True)
    canvas = formats.add_parser("canvas", help="the CSV Canvas's gradebook imports (Grades > Import)")
    canvas.add_argument("--roster", type=Path, required=True, metavar="FILE",
                        help="Canvas's gradebook export (Grades > Export): its students, matched by SIS Login ID "
                             "or SIS User ID")
    canvas.add_argument("--assignment-column", required=True, metavar='"NAME (ID)"',
                        help="the Canvas assignment, as its column in the roster is named")
    long = formats.add_parser("long", help="student, assignment, score, max_score: one row per student and "
                                           "assignment")
    for fmt in (canvas, long):
        source = fmt.add_mutually_exclusive_group(required=True)
        source.add_argument("--grades", type=Path, metavar="FILE",
                            help="the grades.csv of `grade --out DIR` (a group's row counts for each member)")
        source.add_argument("--gradebook", type=Path, metavar="DB",
                            help="nbgrader's gradebook.db (read-only): the scores nbgrader exports")
        fmt.add_argument("--out", type=Path, required=True, metavar="FILE", help="the file to write")
        fmt.add_argument("--assignment", metavar="NAME",
                         help="with --grades, the assignment the rows are of (default: the one the summary.json "
                              "beside it records, else the course's one whose parts and total the columns are; "
                              "another is refused); with --gradebook, the one exported (default: every one)")
    demo = verbs.add_parser("demo", help="build the demo class and grade it")
    add_assignment_options(demo)
    demo.add_argument("--out", type=Path, default=Path("grades/demo"), metavar="DIR")
    demo.add_argument("--jobs", type=positive(int), default=2, metavar="N", help="worker processes (default 2)")
    add_sandbox_options(demo)
    return parser


def main(argv=None):
    parser = _parser()
    args = parser.parse_args(argv)
    if args.verb == "record":
        from .record import record
        for name in [args.assignment] if args.assignment else names(args.course):
            args.assignment = name
            print(f"wrote {record(graded_from_args(args, parser))}")
        return 0
    if args.verb == "export":
        return _export(args, parser)
    graded = graded_from_args(args, parser)
    if args.verb == "checks":
        print(check_list(sorted(graded.checks, key=lambda c: c.rank), f"The checks of {graded.name}"))
        return 0
    if args.verb == "grade" and args.json and len(args.submissions) != 1:
        parser.error("--json takes exactly one submission; use --out DIR for several")
    launcher = launcher_from_args(args, parser)
    try:
        if args.verb == "demo":
            return _demo(args, graded, launcher)
        return _grade(args, graded, launcher)
    except UsageError as err:
        print(f"{parser.prog} {args.verb}: error: {err}.", file=sys.stderr)
        return 2


def _export(args, parser):
    """Grades into a gradebook's file; the lists of who has no grade go to stderr."""
    try:
        if args.grades:
            grades = export.grades_from_csv(args.grades, args.assignment)
        else:
            grades = export.grades_from_gradebook(args.gradebook, args.assignment)
        if args.format == "canvas" and len({g.assignment for g in grades}) > 1:
            raise export.ExportError(f"{args.gradebook} holds several assignments; choose one with --assignment NAME")
        export.write_grades(args.format, args.out, grades, [args.grades or args.gradebook],
                            getattr(args, "roster", None), getattr(args, "assignment_column", None))
    except (export.ExportError, UnknownAssignment) as err:
        print(f"{parser.prog} export: error: {shown(err)}.", file=sys.stderr)
        return 2
    return 0


def _demo(args, graded, launcher):
    from .demo import build_demo_class
    check_output_folder(args.out)
    results = grade_class(build_demo_class(assignment=graded), out=args.out, jobs=args.jobs, launcher=launcher,
                          assignment=graded)
    _report_faults(results)
    print(class_table(results))
    print(f"\nResults, feedback, grades.csv and the class report (report.html) are in {args.out}/")
    return 0


def _grade(args, graded, launcher):
    """Nothing is written until every PATH has been found readable and, for zips, safe."""
    with Finder(graded) as finder, contextlib.ExitStack() as on_exit:
        if args.out:
            check_output_folder(args.out)
        submissions = finder.find(args.submissions)
        for warning in finder.warnings:
            print(f"warning: {warning}", file=sys.stderr)
        if args.json and len(submissions) != 1:
            raise UsageError(f"--json takes exactly one submission, and {args.submissions[0]} holds "
                             f"{len(submissions)}; use --out DIR")
        client = on_exit.enter_context(cluster.connect(args.dask)) if args.dask else None
        results = grade_class(submissions, out=args.out, jobs=args.jobs, timeout=args.timeout, budget=args.budget,
                              hidden_visibility=args.hidden_visibility, launcher=launcher, assignment=graded,
                              cluster=client)
    status = _report_ungraded(submissions, results, graded)
    _report_faults(results)
    if args.json:
        write_atomic(args.json, results_json(results[0], args.hidden_visibility))
    if len(results) == 1 and not args.out:
        print(feedback_markdown(results[0]))
    print(class_table(results))
    return status


if __name__ == "__main__":
    sys.exit(main())
