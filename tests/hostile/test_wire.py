"""The wire: whatever the child writes on its response channel, the grader decodes
at most a few MiB per call, within the call's time limit, and keeps at most a few
KB of any text, as valid UTF-8; a child that stops reading its requests is late like
one that stops answering; a breach costs that function's checks, never the class run."""
import re
import resource
import time

import pytest

from autograder.classroom import grade_class
from autograder.kit.runner import wire
from autograder.reports.results import results_json
from autograder.reports.tables import feedback_markdown
from conftest import GRADED

from .support import (
    SOLUTIONS,
    TIMEOUT,
    assert_honest_functions_kept_their_points,
    assert_hostile_function_earned_nothing,
    explained_once,
    finishes_within,
    outputs_of,
)


def forged_reply(header, tail="b''"):
    """zero_centered that writes its own reply (a header given as a Python expression,
    then ``tail`` bytes) on the response channel, and leaves."""
    return f"""
def zero_centered(X):
    import json
    import os
    import sys
    header = {header}
    with open(int(sys.argv[2]), "wb", closefd=False) as channel:
        channel.write(len(header).to_bytes(8, "little") + header + {tail})
    os._exit(0)
"""


def array(nbytes):
    return f'json.dumps({{"$": "array", "dtype": "<f8", "shape": [{nbytes // 8}], "nbytes": {nbytes}}}).encode()'


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


OVERSIZED = {
    "64-MiB-header": ('b"[" + b"[]," * ((64 << 20) // 3) + b"[]]"', "b''", "a header of 67108867 bytes"),
    "millions-of-values": ('b"[" + b"[]," * ((4 << 20) // 3 - 1) + b"[]]"', "b''", "1398102 values"),
    "deep-nesting": ('b"[" * 90000 + b"]" * 90000', "b''", "more than 64 levels of nesting"),
    "huge-array": (array(200 << 20), "bytes(200 << 20)", "arrays of 209715200 bytes"),
    "arrays-that-add-up": (f'b"[" + {array(24 << 20)} + b"," + {array(24 << 20)} + b"]"', "bytes(48 << 20)",
                           "arrays of 50331648 bytes"),
}


@pytest.mark.parametrize("header, tail, bound", OVERSIZED.values(), ids=OVERSIZED.keys())
def test_an_oversized_reply_costs_only_its_function(hostile, grade, reference_scores, header, tail, bound):
    before, start = peak_rss_mb(), time.monotonic()
    result = grade(hostile("zero_centered", forged_reply(header, tail)))
    assert time.monotonic() - start < 20 and peak_rss_mb() - before < 100, "the grader decoded the oversized reply"
    assert_hostile_function_earned_nothing(result, "zero_centered")
    assert (f"the process running zero_centered sent back an answer larger than the grader accepts ({bound}"
            in outputs_of(result, "zero_centered"))
    assert_honest_functions_kept_their_points(result, reference_scores, ["zero_centered", "data_preprocess"])


def test_an_oversized_reply_beside_honest_classmates_leaves_them_their_marks(hostile, bubblewrap, tmp_path):
    hostile_folder = hostile("zero_centered", forged_reply(OVERSIZED["64-MiB-header"][0]))
    before = peak_rss_mb()
    results = grade_class([hostile_folder, SOLUTIONS, SOLUTIONS], jobs=2, progress=False, launcher=bubblewrap)
    assert peak_rss_mb() - before < 100
    assert [r.score == r.max_score for r in results] == [False, True, True]


FORGED_TEXT = {
    "error-message": ('json.dumps({"$": "dict", "items": {"ok": False, "error": "E" * (3 << 20), '
                      '"raised": ["R" * (512 << 10)]}}).encode()', "E" * 1000),
    "type-name": ('json.dumps({"$": "dict", "items": {"ok": True, "value": {"$": "opaque", "type": "T" * (3 << 20)}, '
                  '"args": [0]}}).encode()', "should be a numpy array, but it is a " + "T" * 1000),
}


@pytest.mark.parametrize("header, kept", FORGED_TEXT.values(), ids=FORGED_TEXT.keys())
def test_text_forged_on_the_wire_is_cut_in_the_grader(hostile, grade, reference_scores, header, kept):
    result = grade(hostile("zero_centered", forged_reply(header)))
    assert_hostile_function_earned_nothing(result, "zero_centered")
    feedback = [o.output for o in result.outcomes if "zero_centered" in o.check.tags]
    assert all(len(text) < 2 * wire.MAX_TEXT for text in feedback)
    assert any(kept in text and "more characters cut]" in text for text in feedback)
    assert len(results_json(result)) < 300_000
    assert_honest_functions_kept_their_points(result, reference_scores, ["zero_centered", "data_preprocess"])


HUGE_EXCEPTION = """
def normalized(X):
    raise RuntimeError("A" * (30 << 20))
"""


def test_a_30_mib_exception_message_gives_files_of_a_few_kb(hostile, grade, reference_scores):
    before = peak_rss_mb()
    result = grade(hostile("normalized", HUGE_EXCEPTION))
    assert peak_rss_mb() - before < 100, "the grader kept the message in memory"
    assert_hostile_function_earned_nothing(result, "normalized")
    judged = [o for o in result.outcomes if "normalized" in o.check.tags]
    explained_once(judged, " raised RuntimeError: AAAA")
    stated = [o.output for o in judged if " raised RuntimeError: AAAA" in o.output]
    assert all(len(text) <= wire.MAX_TEXT for text in stated)
    assert all(int(re.search(r"\[\.\.\. (\d+) more characters cut\]", text)[1]) > (30 << 20) - wire.MAX_TEXT
               for text in stated)
    assert len(results_json(result)) < 100_000 and len(feedback_markdown(result)) < 100_000
    assert_honest_functions_kept_their_points(result, reference_scores, ["normalized"])


NAP = 0.7  # seconds, just under the time limit of the test below

SLOW_ZERO_CENTERED = f"""
def zero_centered(X):
    import time
    time.sleep({NAP})
    X = np.asarray(X, dtype=np.float64)
    return X - X.mean(axis=0)
"""

# Appended to a module: its other functions answer right, after a nap.
SLOW_DOWN = """

def _slowly(function):
    def slow(*args, **kwargs):
        import time
        time.sleep({nap})
        return function(*args, **kwargs)
    return slow


for _name in {names}:
    globals()[_name] = _slowly(globals()[_name])
"""


def test_calls_just_under_the_time_limit_stop_at_the_budget(hostile, grade):
    folder = hostile("zero_centered", SLOW_ZERO_CENTERED)
    for module in set(GRADED.spec.functions.values()):
        names = [f for f, m in GRADED.spec.functions.items() if m == module and f != "zero_centered"]
        with open(folder / f"{module}.py", "a") as file:
            file.write(SLOW_DOWN.format(nap=NAP, names=names))
    result = grade(folder, timeout=1.0, budget=5.0)
    assert result.execution_time < 5.0 + 2.0
    passed = [o for o in result.outcomes if o.passed]
    spent = [o for o in result.outcomes if "the submission used up its time budget of 5 s; the remaining checks "
                                                "were not run" in o.cause]
    # data_preprocess calls two of the slowed functions: it takes twice the nap, over the time limit.
    late = [o for o in result.outcomes if "data_preprocess did not return within 1 s" in o.cause]
    assert passed and spent and len(passed) + len(spent) + len(late) == len(result.outcomes)
    assert not any(o.score for o in spent + late)


# Answers this call with a forged failure, then every later request too, receipt and
# all, without reading one: the grader's requests pile up in the child's standard
# input until the pipe is full. Before, the grader then blocked in its write for ever
# (the time limit was only on reads, the budget checked only when a call started): a
# class graded with --budget 10 --timeout 2 never finished and wrote nothing.
STOPS_READING = """
def zero_centered(X):
    import os
    import sys
    reply = b'{"$":"dict","items":{"ok":false,"error":"forged"}}'
    message = len(reply).to_bytes(8, "little") + reply
    receipt = len(b'"received"').to_bytes(8, "little") + b'"received"'
    os.write(int(sys.argv[2]), message)
    while True:
        os.write(int(sys.argv[2]), receipt + message)
"""


def test_a_child_that_stops_reading_its_requests_costs_only_its_submission(hostile, bubblewrap, tmp_path):
    staller = hostile("zero_centered", STOPS_READING)
    results = finishes_within(120, grade_class, [staller, SOLUTIONS], out=tmp_path / "out", progress=False,
                              launcher=bubblewrap, timeout=2.0, budget=10.0)
    assert [r.status for r in results] == ["graded", "graded"]
    assert results[0].execution_time < 10.0 + 2 * 2.0, "the budget did not bound the stalled submission"
    assert "forged" in outputs_of(results[0], "zero_centered")
    assert_hostile_function_earned_nothing(results[0], "zero_centered")
    assert results[1].score == results[1].max_score
    assert (tmp_path / "out" / "grades.csv").is_file()


LONE_SURROGATE = """
def normalized(X):
    raise ValueError("bad \\ud800 text")
"""


def test_a_lone_surrogate_from_the_child_arrives_as_a_replacement_character(hostile, bubblewrap, tmp_path):
    """Before, the class run crashed with UnicodeEncodeError while it wrote NAME.md."""
    folder = hostile("normalized", LONE_SURROGATE)
    results = grade_class([folder, SOLUTIONS], out=tmp_path / "out", progress=False, launcher=bubblewrap,
                          timeout=TIMEOUT)
    feedback = (tmp_path / "out" / f"{results[0].name}.md").read_text(encoding="utf-8")
    assert "normalized raised ValueError: bad \ufffd text" in feedback
    assert "normalized raised ValueError: bad \ufffd text" in outputs_of(results[0], "normalized")
    assert_hostile_function_earned_nothing(results[0], "normalized")
    assert results[1].score == results[1].max_score
