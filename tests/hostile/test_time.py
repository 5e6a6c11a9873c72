"""Time: a call that never returns is stopped after the time limit and costs only
the checks of its function."""
import pytest

from .support import (
    TIMEOUT,
    assert_honest_functions_kept_their_points,
    assert_hostile_function_earned_nothing,
    outputs_of,
)

ENDLESS_LOOP = """
def batchnorm_backward(dout, cache):
    while True:
        pass
"""

LONG_SLEEP = """
def he_init(fan_in, fan_out, rng=None):
    import time
    time.sleep(3600)
"""

DEAF_TO_SIGNALS = """
def normalized(X):
    import signal
    for name in ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGXCPU"):
        signal.signal(getattr(signal, name), signal.SIG_IGN)
    while True:
        pass
"""


@pytest.mark.parametrize("function, source", [("batchnorm_backward", ENDLESS_LOOP), ("he_init", LONG_SLEEP),
                                              ("normalized", DEAF_TO_SIGNALS)],
                         ids=["endless-loop", "long-sleep", "ignores-SIGINT-and-SIGTERM"])
def test_a_call_that_never_returns_is_stopped_and_costs_only_its_function(
        hostile, grade, reference_scores, function, source):
    result = grade(hostile(function, source))
    assert_hostile_function_earned_nothing(result, function)
    assert f"{function} did not return within {TIMEOUT:g} s" in outputs_of(result, function)
    assert_honest_functions_kept_their_points(result, reference_scores, [function])
    # A function that timed out is not called again: the whole submission costs a
    # few time limits (the function itself, and callers such as data_preprocess).
    assert result.execution_time < 4 * TIMEOUT + 3
