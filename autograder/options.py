"""The options every front end shares (the command line, Gradescope's and PrairieLearn's run and build):
which assignment, the time limits, the sandbox, the visibility of hidden checks.
Importing this module costs nothing beyond the grader's own needs (numpy), since
Gradescope's image has nothing else."""
import argparse
from pathlib import Path

from . import sandbox
from .assignments import UnknownAssignment, load
from .grade import DEFAULT_BUDGET, DEFAULT_TIMEOUT

VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")


def positive(type_):
    def parse(text):
        value = type_(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be positive, not {text}")
        return value
    parse.__name__ = type_.__name__
    return parse


def add_grading_options(parser, hidden_visibility=None):
    """Options of every grading front end: visibility, time limits, sandbox."""
    parser.add_argument("--hidden-visibility", choices=VISIBILITIES, default=hidden_visibility,
                        help="Gradescope visibility of the hidden checks; on PrairieLearn, which cannot show them "
                             "later, 'visible' shows their feedback, 'hidden' adds them up in one line, and the "
                             f"others show each one's name and points only (default: {hidden_visibility or 'visible'})")
    parser.add_argument("--timeout", type=positive(float), default=DEFAULT_TIMEOUT, metavar="SECONDS",
                        help="time limit of every call of a student function (default %(default)g)")
    parser.add_argument("--budget", type=positive(float), default=DEFAULT_BUDGET, metavar="SECONDS",
                        help="time for all the calls of one submission; once spent, its remaining checks "
                             "score 0 (default %(default)g)")
    add_sandbox_options(parser)


GRADING_FLAGS = ("--hidden-visibility", "--timeout", "--budget", "--sandbox", "--memory")


def grading_arguments(args, defaults):
    """The grading options of ``args`` that differ from those of ``defaults`` (the
    same parser's answer to no options), as a command line: what a platform's
    bundle bakes into its entry script."""
    arguments = []
    for flag in GRADING_FLAGS:
        dest = flag[2:].replace("-", "_")
        value = getattr(args, dest)
        if value != getattr(defaults, dest):
            arguments += [flag, f"{value:g}" if isinstance(value, float) else value]
    return arguments


def add_sandbox_options(parser):
    parser.add_argument("--sandbox", choices=sandbox.MODES, default="auto",
                        help="how student code is confined: bubblewrap namespaces, resource limits only, "
                             "or none (default auto: bubblewrap where it works, else limits)")
    parser.add_argument("--memory", type=positive(float), default=sandbox.Limits.memory_bytes / sandbox.GiB,
                        metavar="GIB", help="memory limit of the process running student code, in GiB "
                                            "(default %(default)g)")


def launcher_of(args):
    """The sandbox's launcher that the options ``args`` ask for; raises
    sandbox.SandboxUnavailable, with a sentence, when it cannot run here."""
    return sandbox.launcher(args.sandbox, sandbox.Limits(memory_bytes=int(args.memory * sandbox.GiB)))


def launcher_from_args(args, parser):
    try:
        return launcher_of(args)
    except sandbox.SandboxUnavailable as err:
        parser.error(str(err))


def add_assignment_options(parser):
    """Which assignment of which course: every command takes them."""
    parser.add_argument("--assignment", metavar="NAME",
                        help="the assignment, a folder of the course's assignment/ (default: its only one, or "
                             "batchnorm); also the folder graded inside nbgrader's submitted/<student>/")
    parser.add_argument("--course", type=Path, metavar="DIR",
                        help="the course folder, holding assignment/ (default: the working folder if it holds "
                             "one, else this repository)")


def graded_from_args(args, parser):
    try:
        return load(args.assignment, args.course)
    except UnknownAssignment as err:
        parser.error(str(err))
