"""Memory: a memory bomb ends in "exceeded the memory limit" for its function."""
import pytest

from autograder.sandbox import BubblewrapLauncher, Limits

from .support import assert_honest_functions_kept_their_points, assert_hostile_function_earned_nothing, outputs_of

GROWING_ARRAYS = """
def batchnorm_backward_alt(dout, cache):
    import numpy as np
    blocks = []
    while True:
        blocks.append(np.ones(10 ** 7))  # 80 MB, every page touched
"""

DOUBLING_BYTES = """
def batchnorm_backward_alt(dout, cache):
    data = b"x" * (1 << 20)
    while True:
        data += data
"""

ONE_HUGE_ARRAY = """
def batchnorm_backward_alt(dout, cache):
    import numpy as np
    return np.zeros((1 << 20, 1 << 12)) + 1.0  # 32 GiB
"""


def assert_memory_limit_held(result, reference_scores, gib):
    assert_hostile_function_earned_nothing(result, "batchnorm_backward_alt")
    sentence = f"batchnorm_backward_alt exceeded the memory limit ({gib} GiB)"
    assert sentence in outputs_of(result, "batchnorm_backward_alt")
    assert_honest_functions_kept_their_points(result, reference_scores, ["batchnorm_backward_alt"])


# Filling memory page by page is slow on small machines, so these bombs meet a
# lower limit (and a longer time limit) than the default.
@pytest.mark.parametrize("source", [GROWING_ARRAYS, DOUBLING_BYTES], ids=["growing-arrays", "doubling-bytes"])
def test_a_growing_memory_bomb_exceeds_the_limit_of_its_function_only(hostile, grade, reference_scores, source):
    launcher = BubblewrapLauncher(Limits(memory_bytes=512 << 20))
    result = grade(hostile("batchnorm_backward_alt", source), launcher=launcher, timeout=8)
    assert_memory_limit_held(result, reference_scores, "0.5")


def test_one_huge_array_exceeds_the_default_limit(hostile, grade, reference_scores):
    result = grade(hostile("batchnorm_backward_alt", ONE_HUGE_ARRAY))
    assert_memory_limit_held(result, reference_scores, "1.5")
