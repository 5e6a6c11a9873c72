"""Assignments, checks, suites and outcomes: the vocabulary shared by the public
self-check and the hidden grader.

A check is a function ``check(student, ref)`` that calls the student's code through
``student`` and the expected answers through ``ref``, and raises ``CheckFailed``
with a sentence for the student when something is wrong. It never sees how the
student's code is run (in this process, or in a sandboxed child).
"""
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Assignment:
    """What the kit knows of one assignment: its name, which module holds each
    student function (its interface), and its check groups in the order a student
    meets them (one nbgrader grade cell each)."""
    name: str
    functions: dict
    groups: tuple

    @property
    def modules(self):
        """The student modules' file names."""
        return tuple(sorted({f"{module}.py" for module in self.functions.values()}))


@dataclass(frozen=True)
class Previous:
    """In the arguments of ``ref.expect_after``: item ``index`` of what the first
    function returned (a backward pass's cache, made by its forward)."""
    index: int


class CheckFailed(AssertionError):
    """The student's result is wrong; the message says what was tried, what was
    expected and what came back.

    ``cause`` names the reason when other checks may fail for the same one (a
    wrong shape, a value that is not an array), so that it is explained once;
    ``misconception`` is the ``(id, sentence)`` of the known mistake the answer
    matches, if any."""

    def __init__(self, message, *, cause=None, misconception=None):
        super().__init__(message)
        self.misconception = misconception
        self.cause = cause


class StudentError(Exception):
    """The student's code could not produce a result: it raised, crashed, hung,
    or the function or module is missing. The message is meant for the student;
    ``raised`` names the classes of the exception it raised (most derived first)."""

    def __init__(self, message, raised=()):
        super().__init__(message)
        self.raised = tuple(raised)

    @property
    def cause(self):
        # The first line is the reason; what the code printed (below it) varies from call to call.
        return "error " + str(self).split("\n", 1)[0]

    misconception = None


@dataclass(frozen=True)
class Check:
    name: str
    group: str
    points: float
    tags: tuple
    func: object
    visibility: str = "visible"
    hidden: bool = False  # hidden checks may be shown later (Gradescope's after_due_date)


@dataclass
class Outcome:
    check: Check
    score: float
    output: str
    error: str = ""  # set when the check itself failed: a fault for the instructor to see
    cause: str = ""  # why it failed, when other checks may fail for the same reason
    misconception: str = ""  # the id of the known mistake the answer matched

    @property
    def passed(self):
        return self.score == self.check.points


@dataclass
class Suite:
    """An ordered collection of checks of one assignment, built with the ``check`` decorator."""
    assignment: Assignment
    visibility: str = "visible"
    hidden: bool = False
    checks: list = field(default_factory=list)

    def check(self, name, *, group, points, tags):
        unknown = set(tags) - set(self.assignment.functions)
        if group not in self.assignment.groups or unknown:
            raise ValueError(f"check {name!r}: unknown group {group!r} or tags {sorted(unknown)}")

        def register(func):
            self.checks.append(Check(name, group, points, tuple(tags), func, self.visibility, self.hidden))
            return func
        return register


def run_check(check, student, ref):
    """Run one check; a wrong result or a failing student function costs its points.
    A check may return a note (a sentence about how it judged) to show with its pass."""
    try:
        note = check.func(student, ref.for_check(check.name))
    except (CheckFailed, StudentError) as err:
        misconception = err.misconception[0] if err.misconception else ""
        return Outcome(check, 0.0, str(err), cause=err.cause or "", misconception=misconception)
    except Exception as err:  # a value no check foresaw; it costs this check, not the others
        return Outcome(check, 0.0, "The check could not judge your result. If your code looks right, "
                                   "show this message to your instructor.", error=f"{type(err).__name__}: {err}")
    return Outcome(check, float(check.points), f"Passed. {note}" if note else "Passed.", cause=note or "")


def run_checks(checks, student, ref):
    return say_each_cause_once([run_check(check, student, ref) for check in checks])


def say_each_cause_once(outcomes):
    """A cause (a known mistake, a wrong shape, a crash, a note) is explained in the
    first check it shows up in; later ones refer to that check in a few words."""
    first = {}
    for o in outcomes:
        keys = [k for k in (o.cause, o.misconception and f"misconception {o.misconception}") if k]
        seen = next((first[k] for k in keys if k in first), None)
        if seen is None:
            first.update(dict.fromkeys(keys, o.check.name))
        elif o.passed:
            o.output = "Passed."
        else:
            what = o.output.split("\n", 1)[0] if o.misconception and not o.cause else ""
            o.output = f"{what} Same cause as in \u201c{seen}\u201d.".strip()
    return outcomes
