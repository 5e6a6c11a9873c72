"""The plain-data boundary between grader and student code, and the public self-check."""
import io
import subprocess
import sys

import numpy as np
import pytest
from conftest import RELEASE, SOLUTIONS

from autograder import public

wire = public.runner.wire


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
    with pytest.raises(public.framework.CheckFailed, match="subclass of numpy.ndarray"):
        public.compare.plain_array(back[1], "out")


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


def selfcheck(folder):
    return subprocess.run([sys.executable, "-m", "selfcheck"], cwd=folder, capture_output=True, text=True)


def test_public_self_check_gives_the_solution_full_marks():
    done = selfcheck(SOLUTIONS)
    assert done.returncode == 0, done.stderr
    assert "total" in done.stdout and "16 / 16" in done.stdout and "Every check passed" in done.stdout


def test_public_self_check_on_the_stubs_scores_zero_and_says_why():
    done = selfcheck(RELEASE)
    assert done.returncode == 0, done.stderr
    assert "0 / 16" in done.stdout and "still the stub" in done.stdout


def test_public_self_check_names_a_misconception_from_stored_answers(tmp_path, solution_copy):
    module = solution_copy / "batchnorm.py"
    module.write_text(module.read_text().replace("var = (xmu ** 2).mean(axis=0)", "var = x.var(axis=0, ddof=1)"))
    done = selfcheck(solution_copy)
    assert "Likely misconception: your batch variance is the unbiased one" in done.stdout
