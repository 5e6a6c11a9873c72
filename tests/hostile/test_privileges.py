"""Privileges: when the grader is root, student code is not."""
import os

import pytest

from .support import assert_honest_functions_kept_their_points, assert_hostile_function_earned_nothing

WHO_AM_I = """
def he_init(fan_in, fan_out, rng=None):
    import os
    status = dict(line.split(":", 1) for line in open("/proc/self/status").read().splitlines())
    try:
        os.setuid(0)
        became_root = "yes"
    except OSError:
        became_root = "no"
    def ids(numbers):
        return ",".join(map(str, numbers)) or "none"
    raise RuntimeError(
        f"uids={ids(os.getresuid())} gids={ids(os.getresgid())} groups={ids(os.getgroups())} "
        f"CapEff={status['CapEff'].strip()} CapPrm={status['CapPrm'].strip()} "
        f"NoNewPrivs={status['NoNewPrivs'].strip()} setuid(0)={became_root}")
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="the grader is not root, so neither is the child")
def test_student_code_runs_unprivileged_when_the_grader_is_root(hostile, grade, reference_scores):
    result = grade(hostile("he_init", WHO_AM_I))
    report = next(o.output for o in result.outcomes if "he_init" in o.check.tags)
    facts = dict(item.split("=", 1) for item in report.split(": ", 1)[1].split(" (")[0].split(" "))
    uids, gids = facts["uids"].split(","), facts["gids"].split(",")
    assert "0" not in uids and "0" not in gids and facts["groups"] == "none", report
    assert int(facts["CapEff"], 16) == 0 and int(facts["CapPrm"], 16) == 0, report
    assert facts["NoNewPrivs"] == "1" and facts["setuid(0)"] == "no", report
    assert_hostile_function_earned_nothing(result, "he_init")
    assert_honest_functions_kept_their_points(result, reference_scores, ["he_init"])
