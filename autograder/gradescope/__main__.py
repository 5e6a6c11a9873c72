"""python -m autograder.gradescope: build the bundle, or grade as run_autograder does.

    python -m autograder.gradescope build [--out FILE] [GRADING OPTIONS]
    python -m autograder.gradescope run [--root DIR] [GRADING OPTIONS]

The grading options (--hidden-visibility, --timeout, --budget, --sandbox, --memory) given to
``build`` are baked into the bundle's run_autograder, which passes them to ``run``.
"""
import argparse
import sys
from pathlib import Path

from ..options import (
    add_assignment_options,
    add_grading_options,
    graded_from_args,
    grading_arguments,
    launcher_from_args,
)


def _parser():
    parser = argparse.ArgumentParser(prog="python -m autograder.gradescope",
                                     description="An assignment's autograder on Gradescope.")
    verbs = parser.add_subparsers(dest="verb", required=True)
    build = verbs.add_parser("build", help="write autograder.zip for Gradescope")
    build.add_argument("--out", type=Path, default=Path("autograder.zip"), metavar="FILE")
    run = verbs.add_parser("run", help="grade ROOT/submission into ROOT/results/results.json")
    run.add_argument("--root", type=Path, default=Path("/autograder"), metavar="DIR")
    for verb in (build, run):
        add_assignment_options(verb)
        add_grading_options(verb)
    return parser


def grading_options(args):
    """The grading options of ``args`` that differ from the defaults, as run's arguments."""
    return grading_arguments(args, _parser().parse_args(["build"]))


def main(argv=None):
    parser = _parser()
    args = parser.parse_args(argv)
    graded = graded_from_args(args, parser)
    if args.verb == "build":
        from .bundle import build_bundle
        path = build_bundle(args.out, graded, grading_options(args))
        print(f"wrote {path} ({path.stat().st_size} bytes); upload it as the assignment's autograder")
        return 0
    from .run import run
    run(args.root, graded, args.hidden_visibility, args.timeout, launcher_from_args(args, parser), budget=args.budget)
    return 0


if __name__ == "__main__":
    sys.exit(main())
