"""python -m autograder.prairielearn: build the question, or grade as its entrypoint does.

    python -m autograder.prairielearn build [--out DIR] [--image NAME] [GRADING OPTIONS]
    python -m autograder.prairielearn run [--root DIR] [GRADING OPTIONS]

The grading options (--hidden-visibility, --timeout, --budget, --sandbox, --memory) given to
``build`` are baked into the question's entrypoint, which passes them to ``run``; the budget
also sets the grading job's timeout in info.json.
"""
import argparse
import sys
from pathlib import Path

from .. import sandbox
from ..options import add_assignment_options, add_grading_options, graded_from_args, grading_arguments, launcher_of
from .question import DEFAULT_IMAGE, NotAQuestionFolder, build_question, job_timeout
from .results import not_gradable
from .run import run, write_results

# What a student sees of the hidden checks unless the build says otherwise: their
# names and points (PrairieLearn cannot show them later).
HIDDEN_VISIBILITY = "after_due_date"


def _parser():
    parser = argparse.ArgumentParser(prog="python -m autograder.prairielearn",
                                     description="An assignment's external grader on PrairieLearn.")
    verbs = parser.add_subparsers(dest="verb", required=True)
    build = verbs.add_parser("build", help="write the question folder and the grader's image definition")
    build.add_argument("--out", type=Path, metavar="DIR",
                       help="the folder to write (replaced whole; default prairielearn/NAME)")
    build.add_argument("--image", default=DEFAULT_IMAGE, metavar="NAME",
                       help="the image info.json names, as the course pushes it (default %(default)s)")
    run = verbs.add_parser("run", help="grade ROOT/student into ROOT/results/results.json")
    run.add_argument("--root", type=Path, default=Path("/grade"), metavar="DIR",
                     help="PrairieLearn's job folder (default %(default)s)")
    for verb in (build, run):
        add_assignment_options(verb)
        add_grading_options(verb, HIDDEN_VISIBILITY)
    return parser


def main(argv=None):
    parser = _parser()
    args = parser.parse_args(argv)
    graded = graded_from_args(args, parser)
    if args.verb == "build":
        out = args.out or Path("prairielearn") / graded.name
        options = grading_arguments(args, parser.parse_args(["build"]))
        try:
            question = build_question(out, graded, job_timeout(args.budget), options, args.image)
        except NotAQuestionFolder as err:
            parser.error(str(err))
        print(f"wrote {question} (copy it into your course's questions/) and {out / 'image'} (build and push "
              f"the image {args.image} from it)")
        return 0
    try:
        launcher = launcher_of(args)
    except sandbox.SandboxUnavailable as err:
        # A broken image: the student loses no attempt to it, the job's log says why.
        write_results(args.root, not_gradable(["The grader cannot run on this image; your instructor can see why "
                                               "in the grading log."]))
        print(f"error: {err}", file=sys.stderr)
        return 0
    run(args.root, graded, args.hidden_visibility, args.timeout, launcher, budget=args.budget)
    return 0


if __name__ == "__main__":
    sys.exit(main())
