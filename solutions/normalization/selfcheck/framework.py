"""Assignments, checks, suites and outcomes: the vocabulary shared by the public
self-check and the hidden grader.

A check is a function ``check(student, ref)`` that calls the student's code through
``student`` and the expected answers through ``ref``, and raises ``CheckFailed``
with a sentence for the student when something is wrong. It never sees how the
student's code is run (in this process, or in a sandboxed child).
"""
import contextlib
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


@contextlib.contextmanager
def calling(context):
    """An exception the student's code raises inside says which call it came from
    (``context``, e.g. "in test mode with no running_mean in bn_param"), for a call
    whose arguments may explain it. Other failures (a missing module, a time-out)
    are the same whatever the call, and are left as they are."""
    try:
        yield
    except StudentError as err:
        if not err.raised:
            raise
        first, _, rest = str(err).partition("\n")
        raise StudentError(f"{first.rstrip('.')}, called {context}." + (f"\n{rest}" if rest else ""),
                           err.raised) from None


@dataclass(frozen=True)
class Check:
    name: str
    group: str
    points: float
    tags: tuple  # every student function the check calls
    func: object
    visibility: str = "visible"
    hidden: bool = False  # hidden checks may be shown later (Gradescope's after_due_date)
    judges: str = ""  # the function whose result it judges (default: the last of its tags)
    rank: tuple = ()  # (group, function) in the assignment's order: the order checks run and are shown in

    @property
    def function(self):
        return self.judges or self.tags[-1]


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

    def check(self, name, *, group, points, tags, judges=None):
        """Register a check of ``group`` worth ``points``. ``tags`` name every student
        function it calls, those it needs first (a forward pass for its backward) before
        the one it judges; ``judges`` names that one when it is not the last tag."""
        judges = judges or tags[-1]
        unknown = set(tags) - set(self.assignment.functions)
        if group not in self.assignment.groups or unknown or judges not in tags:
            raise ValueError(f"check {name!r}: unknown group {group!r} or tags {sorted(unknown)}, or it judges "
                             f"{judges!r}, which is not among its tags")
        rank = (self.assignment.groups.index(group), list(self.assignment.functions).index(judges))

        def register(func):
            self.checks.append(Check(name, group, points, tuple(tags), func, self.visibility, self.hidden,
                                     judges, rank))
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
    """Run ``checks`` in the assignment's order (by group, then by the function they
    judge, public checks first), so that every front end shows a function's checks
    together; each cause is explained in full once."""
    return say_each_cause_once([run_check(check, student, ref) for check in sorted(checks, key=lambda c: c.rank)])


def cause_keys(outcome):
    """What makes outcomes share a cause: a stated cause (or a note, for a pass), a
    known mistake, or, for a failure, the very same sentence."""
    keys = [k for k in (outcome.cause, outcome.misconception and f"misconception {outcome.misconception}") if k]
    return keys if outcome.passed else [*keys, f"sentence {outcome.output}"]


def causes(outcomes):
    """The outcomes that fail or carry a note, in groups that share a cause, each in
    the order its outcomes ran; the groups in the order they first show up."""
    groups, of_key = [], {}
    for o in outcomes:
        keys = cause_keys(o)
        if not keys:
            continue
        group = next((of_key[k] for k in keys if k in of_key), None)
        if group is None:
            group = []
            groups.append(group)
        group.append(o)
        of_key.update(dict.fromkeys(keys, group))
    return groups


BRIEF = 120  # characters of a check's own first line kept where the cause is explained under another check


def brief(line):
    """A long first line in a few words: its first sentence, or what comes before its
    first colon (what happened, without the details), or its first words."""
    if len(line) <= BRIEF:
        return line
    ends = [i for i in (line.find(". "), line.find(": ")) if 0 < i < BRIEF]
    return line[:min(ends)] if ends else line[:BRIEF].rsplit(" ", 1)[0] + " \u2026"


def say_each_cause_once(outcomes):
    """A cause (a known mistake, a wrong shape, a crash, a note) is explained in full
    in the first check it shows up in; every later check it costs says briefly, in its
    own words, what it found there, and where the whole explanation is."""
    for first, *later in causes(outcomes):
        where = f"\u201c{first.check.name}\u201d"
        for o in later:
            line = o.output.split("\n", 1)[0]
            if o.passed:
                o.output = f"Passed, judged as the note under {where} says."
            elif o.misconception:
                o.output = f"{brief(line)} The likely misconception is explained under {where}."
            elif line != first.output:
                o.output = f"{brief(line).rstrip('.')} (explained in full under {where})."
            else:
                o.output = line
    return outcomes


def retried_without(call, param, optional):
    """(the param dict used, ``call(param)``): ``call`` with ``param`` as given, or,
    when it raises a StudentError and ``param`` holds some of the ``optional`` keys,
    once more without them (the first error stands when that fails too). A backward
    pass's cache comes so from a forward pass that raises only with, say, running
    averages given, which change nothing it is judged on there."""
    try:
        return param, call(param)
    except StudentError as err:
        without = {k: v for k, v in param.items() if k not in optional}
        if len(without) == len(param):
            raise
        try:
            return without, call(without)
        except StudentError:
            raise err from None
