"""A Result as plain data (str, float, lists, dicts), to cross to another process
or machine: a Result's Outcomes hold Check objects whose functions are often
closures, which cannot be pickled, so an Outcome travels as its check's name and
the parent finds the Check again among the assignment's checks."""
from .grade import Result
from .kit.framework import Outcome

OUTCOME_FIELDS = ("score", "output", "error", "cause", "misconception")


def to_plain(result):
    """``result`` as a dict of plain values."""
    return {"name": result.name, "protections": list(result.protections), "execution_time": result.execution_time,
            "notice": result.notice, "error": result.error, "status": result.status,
            "outcomes": [{"check": o.check.name, **{f: getattr(o, f) for f in OUTCOME_FIELDS}}
                         for o in result.outcomes]}


def from_plain(data, checks):
    """The Result that ``to_plain`` made ``data`` of; ``checks`` are the Checks it
    was graded with (the assignment's), found again by name."""
    by_name = {check.name: check for check in checks}
    outcomes = [Outcome(by_name[o["check"]], *(o[f] for f in OUTCOME_FIELDS)) for o in data["outcomes"]]
    return Result(data["name"], outcomes, tuple(data["protections"]), data["execution_time"], data["notice"],
                  data["error"], data["status"])
