"""The plain-data boundary between grader and student code, and the public self-check."""
import fcntl
import io
import json
import subprocess
import sys
import threading
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from autograder.kit import compare, framework, runner
from autograder.kit.runner import wire as wire_module
from conftest import GRADED, RELEASE, SOLUTIONS

wire = wire_module
StudentError = framework.StudentError


def roundtrip(value):
    stream = io.BytesIO(wire.encode(value))
    return wire.decode(wire.read_message(stream), stream)


def test_plain_values_and_arrays_cross_unchanged():
    value = {"a": (1, 2.5, None, True, "s"), "b": [np.arange(6.0).reshape(2, 3), np.float32(1.5)],
             "c": np.array([1, 2], dtype=np.int16)}
    back = roundtrip(value)
    assert back["a"] == (1, 2.5, None, True, "s")
    np.testing.assert_array_equal(back["b"][0], value["b"][0])
    assert back["b"][1] == np.float32(1.5) and back["c"].dtype == np.int16


def test_objects_and_subclasses_do_not_pass_for_arrays():
    class Liar(np.ndarray):
        def __eq__(self, other):
            return True

    back = roundtrip([object(), np.zeros(3).view(Liar), np.array([object()])])
    assert isinstance(back[0], wire.Opaque)
    assert isinstance(back[1], wire.SubclassArray) and back[1].type_name == "Liar"
    assert isinstance(back[2], wire.Opaque)
    with pytest.raises(framework.CheckFailed, match="subclass of numpy.ndarray"):
        compare.plain_array(back[1], "out")


@pytest.mark.parametrize("header", [
    b'{"$": "array", "dtype": "<f8", "shape": [3], "nbytes": 16, "scalar": false}',
    b'{"$": "array", "dtype": "|O", "shape": [1], "nbytes": 8}',
    b'{"$": "array", "dtype": "<f8", "shape": [-1], "nbytes": 8}',
    b'{"$": "code", "src": "import os"}',
    b'not json',
    b'{"$": "array", "dtype": "<f8", "shape": [1099511627776, 1099511627776], "nbytes": 0}',
    b'[' * 100000 + b']' * 100000,
])
def test_malformed_messages_are_rejected(header):
    stream = io.BytesIO(len(header).to_bytes(8, "little") + header + b"\0" * 64)
    with pytest.raises(wire.WireError):
        wire.decode(wire.read_message(stream), stream)


def message(header, tail=b""):
    return io.BytesIO(len(header).to_bytes(8, "little") + header + tail)


def array_header(nbytes):
    return json.dumps({"$": "array", "dtype": "<f8", "shape": [nbytes // 8], "nbytes": nbytes}).encode()


@pytest.mark.parametrize("stream, bound", [
    (io.BytesIO((wire.MAX_HEADER + 1).to_bytes(8, "little")), "a header of 4194305 bytes; the limit is 4 MiB"),
    (message(b"[" * (wire.MAX_DEPTH + 1) + b"]" * (wire.MAX_DEPTH + 1)), "more than 64 levels of nesting"),
    (message(b"[" + b"0," * wire.MAX_NODES + b"0]"), "100002 values; the limit is 100000"),
    (message(array_header(wire.MAX_ARRAY_BYTES + 8)), "arrays of 33554440 bytes; the limit is 32 MiB"),
    (message(b"[" + array_header(20 << 20) + b"," + array_header(20 << 20) + b"]", bytes(20 << 20)),
     "arrays of 41943040 bytes; the limit is 32 MiB"),
], ids=["header", "depth", "values", "array", "arrays-together"])
def test_a_message_over_a_bound_is_refused_naming_the_bound(stream, bound):
    with pytest.raises(wire.TooLarge, match=bound):
        wire.decode(wire.read_message(stream), stream)


def nested(depth):
    """A list ``depth`` levels deep."""
    value = []
    for _ in range(depth - 1):
        value = [value]
    return value


def test_messages_at_the_bounds_pass():
    assert roundtrip(nested(wire.MAX_DEPTH)) == nested(wire.MAX_DEPTH)
    numbers = list(range(wire.MAX_NODES - 1))
    assert roundtrip(numbers) == numbers
    assert roundtrip(np.zeros(wire.MAX_ARRAY_BYTES // 8)).nbytes == wire.MAX_ARRAY_BYTES


@pytest.mark.parametrize("value", [list(range(wire.MAX_NODES)), np.zeros(wire.MAX_ARRAY_BYTES // 8 + 1),
                                   "x" * (wire.MAX_HEADER + 1), nested(wire.MAX_DEPTH + 1), nested(5000)],
                         ids=["values", "array", "text", "depth", "depth-beyond-recursion"])
def test_the_sender_refuses_what_the_receiver_would(value):
    with pytest.raises(wire.TooLarge):
        wire.encode(value)


def test_brackets_commas_and_quotes_inside_strings_are_not_structure():
    text = '\\"[{,:' * 100_000 + "[" * 1000
    back = roundtrip({"message": text, "more": ['"]', "\\", "[[["]})
    assert back["message"] == wire.cut(text) and back["more"] == ['"]', "\\", "[[["]


def test_every_string_from_the_other_side_is_cut_with_a_note():
    long_named = type("N" * 10_000, (), {})
    back = roundtrip({"k" * 10_000: "v" * 10_000, "object": long_named(),
                      "subclass": np.zeros(2).view(type("S" * 10_000, (np.ndarray,), {}))})
    key = max(back, key=len)
    assert key == "k" * 1968 + "\n[... 8032 more characters cut]" == wire.cut("k" * 10_000)
    assert back[key] == "v" * 1968 + "\n[... 8032 more characters cut]"
    assert back["object"].type_name == wire.cut("N" * 10_000)
    assert back["subclass"].type_name == wire.cut("S" * 10_000)
    assert wire.cut(wire.cut("x" * 10_000)) == wire.cut("x" * 10_000) and len(wire.cut("x" * 10_000)) <= wire.MAX_TEXT


def test_a_hostile_header_is_refused_in_milliseconds_and_megabytes():
    header = b"[" + b"[]," * (wire.MAX_HEADER // 3 - 1) + b"[]]"
    tracemalloc.start()
    start = time.perf_counter()
    with pytest.raises(wire.TooLarge, match="values"):
        wire.read_message(message(header))
    elapsed = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert elapsed < 0.5 and peak < 8 * wire.MAX_HEADER, (elapsed, peak)


def test_calls_stop_when_the_submission_used_up_its_budget(tmp_path):
    (tmp_path / "slow.py").write_text("import time\n\ndef nap(seconds):\n    time.sleep(seconds)\n")
    with runner.ChildRunner(tmp_path, {"nap": "slow"}, timeout=5.0, budget=2.0) as child:
        child.call("nap", 0.3)
        child.call("nap", 0.3)
        start = time.monotonic()
        with pytest.raises(StudentError, match="^the submission used up its time budget of 2 s; the remaining"):
            child.call("nap", 10)
        assert time.monotonic() - start < 1.5, "the call was not cut at the end of the budget"
        start = time.monotonic()
        with pytest.raises(StudentError, match="used up its time budget"):
            child.call("nap", 0)
        assert time.monotonic() - start < 0.05


LEAVES_A_MESSAGE = """
import os
import sys
import threading
import time


def leave_a_message():
    def later():
        time.sleep(0.2)
        header = b'"receivedX"'
        os.write(int(sys.argv[2]), len(header).to_bytes(8, "little") + header)
    threading.Thread(target=later, daemon=True).start()
    return os.getpid()


def answer():
    return os.getpid()
"""


def test_a_child_that_an_earlier_call_left_writing_is_replaced(tmp_path):
    """A well-formed message where the receipt should be: the request goes to a fresh child."""
    (tmp_path / "late.py").write_text(LEAVES_A_MESSAGE)
    with runner.ChildRunner(tmp_path, {"leave_a_message": "late", "answer": "late"}) as child:
        first = child.call("leave_a_message").value
        time.sleep(0.4)
        second = child.call("answer").value
        assert isinstance(second, int) and second != first
        assert child.call("answer").value == second


@pytest.mark.skipif(not hasattr(fcntl, "F_GETPIPE_SZ"), reason="pipe sizes are set on Linux only")
def test_a_large_reply_crosses_a_pipe_of_a_mebibyte(tmp_path):
    (tmp_path / "big.py").write_text("import numpy as np\n\n\ndef big():\n    return np.ones((500, 300))\n")
    with runner.ChildRunner(tmp_path, {"big": "big"}) as child:
        assert child.call("big").value.sum() == 150_000
        limit = int(Path("/proc/sys/fs/pipe-max-size").read_text())
        assert fcntl.fcntl(child._responses.fd, fcntl.F_GETPIPE_SZ) >= min(limit, runner.client.PIPE_SIZE)


def test_a_header_is_measured_only_when_it_could_exceed_a_bound(monkeypatch):
    """Honest messages skip the scan of their bytes; one with enough brackets is scanned."""
    scanned, frombuffer = [], np.frombuffer
    monkeypatch.setattr(wire.np, "frombuffer", lambda *a, **k: scanned.append(1) or frombuffer(*a, **k))
    request = {"args": [np.ones((4, 3)), {"mode": "train", "running_mean": np.zeros(3)}], "keep": []}
    np.testing.assert_array_equal(roundtrip(request)["args"][0], np.ones((4, 3)))
    assert len(scanned) == 2  # the bytes of the two arrays, decoded
    with pytest.raises(wire.TooLarge, match="levels of nesting"):
        wire.encode(nested(wire.MAX_DEPTH + 1))
    assert len(scanned) == 3


def selfcheck(folder):
    return subprocess.run([sys.executable, "-m", "selfcheck"], cwd=folder, capture_output=True, text=True)


def test_public_self_check_gives_the_solution_full_marks():
    done = selfcheck(SOLUTIONS)
    assert done.returncode == 0, done.stderr
    total = sum(c.points for c in GRADED.public_checks)
    assert "total" in done.stdout and f"{total:g} / {total:g}" in done.stdout and "Every check passed" in done.stdout


def test_public_self_check_on_the_stubs_scores_zero_and_says_why():
    done = selfcheck(RELEASE)
    assert done.returncode == 0, done.stderr
    total = sum(c.points for c in GRADED.public_checks)
    assert f"0 / {total:g}" in done.stdout and "still the stub" in done.stdout


def test_public_self_check_names_a_misconception_from_stored_answers(tmp_path, solution_copy):
    module = solution_copy / "batchnorm.py"
    module.write_text(module.read_text().replace("var = (xmu ** 2).mean(axis=0)", "var = x.var(axis=0, ddof=1)"))
    done = selfcheck(solution_copy)
    assert "Likely misconception: your batch variance is the unbiased one" in done.stdout


STOPS_READING = """
import os
import sys


def stall():
    reply = b'{"$":"dict","items":{"ok":false,"error":"forged"}}'
    message = len(reply).to_bytes(8, "little") + reply
    receipt = len(b'"received"').to_bytes(8, "little") + b'"received"'
    os.write(int(sys.argv[2]), message)
    while True:  # answers every request that follows, without reading one
        os.write(int(sys.argv[2]), receipt + message)


def answer(*ignored):
    return os.getpid()
"""


def test_a_child_that_stops_reading_requests_is_late_not_blocking(tmp_path):
    """Requests pile up in the child's standard input until the pipe is full; the
    grader's write then waits only until the call's deadline, and the request goes
    to a fresh child (before, the write blocked for ever)."""
    (tmp_path / "stalls.py").write_text(STOPS_READING)
    with runner.ChildRunner(tmp_path, {"stall": "stalls", "answer": "stalls"}, timeout=1.0) as child:
        with pytest.raises(StudentError, match="forged"):
            child.call("stall")
        staller, answered = child._process.pid, []
        big = np.zeros(1 << 14)  # a request of 128 KiB: more than the pipe holds
        calling = threading.Thread(target=lambda: answered.append(child.call("answer", big).value), daemon=True)
        calling.start()
        calling.join(10)
        assert answered, "the grader was still writing to a child that stopped reading"
        assert isinstance(answered[0], int) and answered[0] != staller


def test_a_lone_surrogate_arrives_replaced_wherever_a_string_is():
    """JSON can carry one (raise ValueError("\\ud800")); no UTF-8 file can hold it."""
    back = roundtrip({"message \ud800": ["\udfff", "a \ud83d\ude00 pair"]})
    assert back == {"message \ufffd": ["\ufffd", "a \U0001f600 pair"]}
    forged = message(json.dumps({"$": "opaque", "type": "T\ud800"}).encode())
    assert wire.decode(wire.read_message(forged), forged).type_name == "T\ufffd"


class RecordingLauncher(runner.Launcher):
    """A plain child, and the time each stop was given to clean up."""

    def __init__(self):
        self.within = []

    def stop(self, process, within=None):
        self.within.append(within)
        super().stop(process, within)


def test_cleaning_up_after_a_child_is_given_what_is_left_of_its_submissions_time(tmp_path):
    (tmp_path / "slow.py").write_text("import time\n\ndef nap(seconds):\n    time.sleep(seconds)\n\n\n"
                                      "def doze(seconds):\n    time.sleep(seconds)\n")
    launcher = RecordingLauncher()
    with runner.ChildRunner(tmp_path, {"nap": "slow", "doze": "slow"}, timeout=2.0, budget=3.5,
                            launcher=launcher) as child:
        child.start()
        with pytest.raises(StudentError, match="did not return within 2 s"):
            child.call("nap", 5)
        child.call("doze", 0.1)
    after_timeout, at_the_end = launcher.within
    assert 0.0 < after_timeout <= 3.5 - 2.0  # what the late call left of the budget: less than a time limit
    assert 0.0 <= at_the_end <= after_timeout - 0.1  # and what the next call left
