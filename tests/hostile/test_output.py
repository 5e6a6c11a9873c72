"""Output: floods on stdout and stderr are drained and cut to a few KB; the
grader's own memory stays bounded."""
import resource
import shutil

import numpy as np

from autograder import sandbox
from autograder.kit import runner

from .support import FUNCTIONS, assert_honest_functions_kept_their_points, assert_hostile_function_earned_nothing, \
    explained_once

FLOOD_MB = 300

FLOOD_THEN_RAISE = f"""
def normalized(X):
    import os
    block = b"spam " * (1 << 18)  # 1.25 MB
    for _ in range({FLOOD_MB} // 5):
        os.write(1, block)
        os.write(2, block)
        os.write(1, block)
        os.write(2, block)
    print("the last words", flush=True)
    raise RuntimeError("flooded")
"""

FLOOD_THEN_ANSWER = f"""
def zero_centered(X):
    import sys
    if not FLOODED:
        FLOODED.append(True)
        line = "eggs " * 200 + "\\n"
        for _ in range({FLOOD_MB} * 1000):
            sys.stdout.write(line)
    X = np.asarray(X, dtype=np.float64)
    return X - X.mean(axis=0)


FLOODED = []
"""


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def test_a_flood_is_cut_to_a_few_kb_of_feedback(hostile, grade, reference_scores):
    before = peak_rss_mb()
    result = grade(hostile("normalized", FLOOD_THEN_RAISE), timeout=20)
    assert peak_rss_mb() - before < 100, "the grader kept the flood in memory"
    assert_hostile_function_earned_nothing(result, "normalized")
    judged = [o for o in result.outcomes if o.check.tags == ("normalized",)]
    explained_once(judged, "normalized raised RuntimeError: flooded")
    assert "more bytes of output dropped" in judged[0].output
    assert all(len(o.output) < 3000 for o in judged)
    assert_honest_functions_kept_their_points(result, reference_scores, ["normalized"])


def test_a_function_that_floods_and_answers_right_keeps_its_points(hostile, grade, reference_scores, bubblewrap):
    folder = hostile("zero_centered", FLOOD_THEN_ANSWER)
    before = peak_rss_mb()
    copy = shutil.copytree(folder, sandbox.scratch.new_copy(), dirs_exist_ok=True)  # the sandbox runs scratch copies
    with runner.ChildRunner(copy, FUNCTIONS, timeout=20, launcher=bubblewrap) as child:
        call = child.call("zero_centered", np.ones((4, 3)))
    dropped = int(call.output.split("[... ")[1].split()[0])
    assert len(call.output) < 10_000 and dropped > FLOOD_MB * 1e6 - 10_000
    result = grade(folder, timeout=20)
    assert peak_rss_mb() - before < 100, "the grader kept the flood in memory"
    assert_honest_functions_kept_their_points(result, reference_scores, [])
