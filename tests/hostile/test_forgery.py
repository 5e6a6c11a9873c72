"""Judging cannot be forged: only plain, validated data crosses back, and every
verdict is computed in the grader."""
import pytest

from .support import (
    assert_honest_functions_kept_their_points,
    assert_hostile_function_earned_nothing,
    explained_once,
    outputs_of,
)

# Patches everything a naive grader would compare with, in the child.
MONKEYPATCH = """
def zero_centered(X):
    import builtins
    import sys
    numpy = sys.modules["numpy"]
    numpy.allclose = lambda *args, **kwargs: True
    numpy.array_equal = lambda *args, **kwargs: True
    numpy.isclose = lambda a, *args, **kwargs: numpy.ones(numpy.shape(a), bool)
    numpy.isfinite = lambda a, *args, **kwargs: numpy.ones(numpy.shape(a), bool)
    numpy.testing.assert_allclose = lambda *args, **kwargs: None
    builtins.abs = lambda value: 0
    builtins.max = lambda *args, **kwargs: 0
    return numpy.zeros(numpy.shape(X))
"""

# Makes the runner's own encoder answer for it, once, with a verdict instead of a value.
FORGED_ANSWER = """
def zero_centered(X):
    import sys
    wire = sys.modules["__main__"].wire
    honest_encode = wire.encode

    def forge(message, extra=None):
        wire.encode = honest_encode
        if isinstance(message, dict) and "value" in message:
            message = {**message, "ok": True, "value": {"status": "passed", "score": 1e9}}
        return honest_encode(message, extra)
    wire.encode = forge
    return None
"""

NDARRAY_SUBCLASS = """
def zero_centered(X):
    class Flatterer(np.ndarray):
        def __eq__(self, other):
            return np.ones(np.shape(self), bool)

        def __array__(self, *args, **kwargs):
            return np.asarray(X, dtype=float) - np.asarray(X, dtype=float).mean(axis=0)
    return np.zeros(np.shape(X)).view(Flatterer)
"""

LYING_OBJECT = """
def zero_centered(X):
    class Liar:
        shape = np.shape(X)
        dtype = np.dtype(float)

        def __eq__(self, other):
            return True

        def __array__(self, *args, **kwargs):
            return np.asarray(X, dtype=float) - np.asarray(X, dtype=float).mean(axis=0)

        def __float__(self):
            return 0.0
    return Liar()
"""

OBJECT_ARRAY = """
def zero_centered(X):
    class Equal:
        def __eq__(self, other):
            return True
    values = np.empty(np.shape(X), dtype=object)
    values.fill(Equal())
    return values
"""


@pytest.mark.parametrize("source, sentence", [
    (MONKEYPATCH, "zero_centered"),
    (FORGED_ANSWER, "should be a numpy array, but it is a dict"),
    (NDARRAY_SUBCLASS, "a subclass of numpy.ndarray"),
    (LYING_OBJECT, "should be a numpy array, but it is a Liar"),
    (OBJECT_ARRAY, "should be a numpy array, but it is a array of object"),
], ids=["monkeypatched-numpy-and-builtins", "forged-answer", "ndarray-subclass", "lying-object", "object-array"])
def test_a_lie_earns_nothing(hostile, grade, reference_scores, source, sentence):
    result = grade(hostile("zero_centered", source))
    judged = [o for o in result.outcomes if o.check.tags == ("zero_centered",)]
    assert judged and not any(o.score for o in judged), [(o.check.name, o.output) for o in judged if o.score]
    explained_once(judged, sentence)
    # Within its own process the submission may use its objects as it likes: whether
    # data_preprocess, built on this zero_centered, is right is judged on its own result.
    assert_honest_functions_kept_their_points(result, reference_scores, ["zero_centered", "data_preprocess"])


@pytest.mark.parametrize("statement, sentence", [
    ("sys.exit(0)", "random_init raised SystemExit"),
    ("raise SystemExit('graded: 100%')", "random_init raised SystemExit: graded: 100%"),
    ("raise KeyboardInterrupt", "random_init raised KeyboardInterrupt"),
    ("os.kill(os.getpid(), signal.SIGINT)", "random_init raised KeyboardInterrupt"),
    ("os._exit(0)", "the process running random_init ended without answering (exit status 0)"),
    ("os.abort()", "the process running random_init was killed by SIGABRT"),
    ("os.closerange(3, 1024)", "the process running random_init ended without answering"),
    ("os.close(3)", "should be a numpy array, but it is a NoneType"),
], ids=["sys.exit", "SystemExit", "KeyboardInterrupt", "SIGINT", "os._exit", "os.abort", "close-both-channels",
        "close-the-request-channel"])
def test_leaving_early_costs_only_the_function(hostile, grade, reference_scores, statement, sentence):
    source = f"""
def random_init(fan_in, fan_out, std, rng=None):
    import os
    import signal
    import sys
    {statement}
"""
    result = grade(hostile("random_init", source))
    assert_hostile_function_earned_nothing(result, "random_init")
    assert sentence in outputs_of(result, "random_init")
    assert_honest_functions_kept_their_points(result, reference_scores, ["random_init"])
