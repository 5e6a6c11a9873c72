"""Seeded inputs, and the ways of judging a function's outputs each on its own and
apart from the other functions, shared by the public and the hidden checks.

The forward pass has three outputs: ``out`` and the running averages it stores in
bn_param. A check judges one of them; a known mistake is named only when all three
are what that mistake gives (see the kit's ``compare``), and otherwise the feedback
says in words what differs.
"""
import numpy as np

from ...compare import (
    MISSING,
    assert_close,
    assert_normalizes,
    assert_substantive,
    close,
    fail,
    plain_array,
    recognised,
    result_tuple,
)
from ...framework import CheckFailed, StudentError

PREPROCESSING = ("zero_centered", "normalized", "data_preprocess")
FORWARD = ("batchnorm_forward",)
BACKWARD = ("batchnorm_forward", "batchnorm_backward")
BACKWARD_ALT = ("batchnorm_forward", "batchnorm_backward_alt")
RUNNING = ("running_mean", "running_var")
OUTPUTS = ("out", *RUNNING)  # what one call of the forward answers
STATISTIC = {"running_mean": "mean", "running_var": "variance"}


def bn_param(mode, D, **given):
    """A bn_param for D features that spells out eps, momentum and the running
    averages: their defaults are judged by checks of their own, never again through
    every other check of the forward and the backward passes."""
    return {"mode": mode, "eps": 1e-5, "momentum": 0.9, "running_mean": np.zeros(D), "running_var": np.zeros(D),
            **given}


def rng(seed):
    return np.random.default_rng(seed)


def batch(seed, N, D, mean=0.0, scale=1.0):
    """x of shape (N, D) with per-feature offsets around ``mean``, gamma and beta of shape (D,)."""
    r = rng(seed)
    x = mean + scale * (r.standard_normal((N, D)) * r.uniform(0.5, 3.0, D) + r.uniform(-2, 2, D))
    return x, r.uniform(0.5, 2.0, D), r.standard_normal(D)


def backward_inputs(seed, N, D):
    """x, gamma, beta and an upstream gradient dout, all seeded."""
    x, gamma, beta = batch(seed, N, D)
    return x, gamma, beta, rng(seed + 1).standard_normal((N, D))


def _out(result, args):
    return result[0]


def _running(key):
    return lambda result, args: args[3][key]


PICKS = {"out": _out, **{key: _running(key) for key in RUNNING}}


def expect_forward(ref, x, gamma, beta, param):
    """{output: Expected} of one reference call: out and both running averages, each
    with the answers known mistakes give instead."""
    return {name: ref.expect("batchnorm_forward", x, gamma, beta, dict(param), pick=PICKS[name]) for name in OUTPUTS}


def call_forward(student, x, gamma, beta, param):
    """One call of the student's forward: ({output: what came back}, cache handle,
    bn_param after the call). A running average the call did not store is MISSING."""
    call = student.call("batchnorm_forward", x, gamma, beta, dict(param), keep=[1])
    out, cache = result_tuple(call.value, "batchnorm_forward", 2)
    after = call.args[3]
    stored = {key: after.get(key, MISSING) if isinstance(after, dict) else MISSING for key in RUNNING}
    return {"out": out, **stored}, cache, after


def forward(student, x, gamma, beta, param, expected=None):
    """Call the student's forward; returns (out, cache handle, bn_param after), with
    ``out`` a plain finite array holding N x D numbers, and not a non-answer
    (``expected``, when given, names the known mistake behind a NaN)."""
    got, cache, after = call_forward(student, x, gamma, beta, param)
    out = plain_array(got["out"], "out of batchnorm_forward", shape=x.shape, expected=expected)
    assert_substantive(out, "out of batchnorm_forward", x)
    return out, cache, after


def judge_forward(student, ref, x, gamma, beta, param, name, tried):
    """Judge output ``name`` of one call of the student's forward on its own."""
    expected = expect_forward(ref, x, gamma, beta, param)
    got, _, after = call_forward(student, x, gamma, beta, param)
    if name != "out" and param["mode"] == "test":
        real_answer(student, got, x, gamma, beta)  # running averages left as they were are no answer by themselves
    judge_output(got, expected, name, x, param, after, tried)


def judge_output(got, expected, name, x, param, after, tried):
    """Judge ``got[name]`` against ``expected[name]``; the other outputs of the same
    call only decide whether a known mistake explains the answers."""
    call = [(got[other], expected[other]) for other in OUTPUTS if other != name]
    if name == "out":
        out = plain_array(got["out"], "out of batchnorm_forward", shape=x.shape, expected=expected["out"], call=call)
        assert_substantive(out, "out of batchnorm_forward", x)
        assert_close(out, expected["out"], what="out of batchnorm_forward", tried=tried, call=call)
        return
    value = stored_array(after, name, x.shape[1], expected[name], call)
    assert_close(value, expected[name], what=f"bn_param[{name!r}]", tried=tried, call=call,
                 hint=_running_difference(value, name, x, param))


def real_answer(student, got, x, gamma, beta):
    """The out of a call, as proof that the call computed something: an array of
    numbers, in whatever layout, that is not zeros, one number, or x handed back, from
    a forward that normalizes (``assert_normalizes``, in train mode on x). A check of
    what a forward leaves alone (its arguments, the running averages in test mode, a
    shape) scores only with it."""
    out = plain_array(got["out"], "out of batchnorm_forward")
    assert_substantive(out, "out of batchnorm_forward", x)
    assert_normalizes(lambda moved: call_forward(student, moved, gamma, beta, bn_param("train", x.shape[1]))[0]["out"],
                      x, "out of batchnorm_forward")
    return out


def _running_difference(value, key, x, param):
    """What differs in a running average, in words, for the shapes of wrong answer
    that no catalogued mistake explains by itself."""
    before = param.get(key)
    statistic = x.mean(axis=0) if key == "running_mean" else x.var(axis=0)
    when = "after a training step" if param["mode"] == "train" else "in test mode"
    if before is not None and close(value, before) and param["mode"] == "train":
        return (f"{key} did not change {when}: update it as momentum * {key} + (1 - momentum) * the batch's "
                f"{STATISTIC[key]}, then store it back into bn_param.")
    if before is not None and param["mode"] == "test":
        return f"{key} changed {when}; test mode uses the running averages and leaves them as they are."
    if close(value, statistic):
        return (f"{key} is the batch's own {STATISTIC[key]}: it should keep momentum of its earlier value, "
                f"momentum * {key} + (1 - momentum) * the batch's {STATISTIC[key]}.")
    return ""


def stored_array(bn_param, key, D, expected=None, call=()):
    """``bn_param[key]`` after a call, as an array holding D numbers."""
    if not isinstance(bn_param, dict):
        raise CheckFailed(f"after the call, bn_param is a {type(bn_param).__name__} instead of a dict; "
                          "store the running averages in it as bn_param['running_mean'] and the like.",
                          cause="bn_param is not a dict")
    if key not in bn_param:
        fail(f"after the call, bn_param has no {key!r}: your forward does not store it. Store the running "
             "averages back into bn_param in both modes.", f"bn_param has no {key}",
             recognised(expected, lambda wrong: wrong is MISSING, call))
    return plain_array(bn_param[key], f"bn_param[{key!r}]", shape=(D,), expected=expected, call=call)


def judge_data_preprocess(student, ref, X, tried):
    """data_preprocess is the composition of the student's own parts: it passes if it
    gives the reference's answer, or normalized(zero_centered(X)) of the student's own
    functions, whatever mistake those make, as long as each computes something (so
    that a part's mistake is charged to that part alone, and parts that do nothing earn
    their composition nothing). Its own mistakes still cost it: another result, a
    result that is not a float array, or X modified when neither part modifies it.
    Returns a note when judged as a composition."""
    expected = ref.expect("data_preprocess", X)
    call = student.call("data_preprocess", X)
    if not np.array_equal(call.args[0], X) and not any(_modifies(student, f, X) for f in PREPROCESSING[:2]):
        raise CheckFailed("data_preprocess(X) modified X in place; compute on a copy "
                          "(X - mean creates a new array, X -= mean does not).")
    value = call.value
    own = None if close(value, expected.value, equal_nan=True) else _own_composition(student, X)
    if isinstance(value, np.ndarray) and value.dtype.kind == "f" and value.shape == X.shape \
            and close(value, own, equal_nan=True):
        return "Your zero_centered or normalized differs from the reference, so data_preprocess was judged as " \
               "their composition."
    got = plain_array(value, "data_preprocess(X)", shape=X.shape, expected=expected)
    assert_substantive(got, "data_preprocess(X)", X)
    truncated = not close(got, expected.value) and np.array_equal(got, np.trunc(got))
    assert_close(got, expected, what="data_preprocess(X)", tried=tried, hint=(
        "Every value is a whole number: integer division or an integer array truncates; convert to float first."
        if truncated else "It is not normalized(zero_centered(X)) of your own functions either."
        if own is not None else ""))
    return None


def _own_composition(student, X):
    """normalized(zero_centered(X)) of the student's functions, or None unless each
    part, and the composition, gives an array of numbers that is not its input
    handed back, all zeros or one number repeated."""
    value = X
    try:
        for function in PREPROCESSING[:2]:
            given, value = value, student.call(function, value).value
            if not (isinstance(value, np.ndarray) and value.dtype.kind in "fiu" and value.shape == X.shape):
                return None
            assert_substantive(np.nan_to_num(value), function, given, X)
    except (StudentError, CheckFailed):
        return None
    return value


def _modifies(student, function, X):
    try:
        return not np.array_equal(student.call(function, X).args[0], X)
    except StudentError:
        return False


def assert_leaves_input(call, X, function):
    if not (isinstance(call.args[0], np.ndarray) and np.array_equal(call.args[0], X)):
        raise CheckFailed(f"{function}(X) modified X in place; compute on a copy "
                          "(X - mean creates a new array, X -= mean does not).", cause=f"{function} modifies X")
