"""Seeded inputs and the ways of judging one function apart from the others, shared
by the public and the hidden checks."""
import numpy as np

from ...compare import (
    MISSING,
    assert_close,
    assert_substantive,
    close,
    fail,
    known_mistake,
    plain_array,
    recognised,
    result_tuple,
)
from ...framework import CheckFailed, Previous, StudentError

PREPROCESSING = ("zero_centered", "normalized", "data_preprocess")
FORWARD = ("batchnorm_forward",)
BACKWARD = ("batchnorm_forward", "batchnorm_backward")
BACKWARD_ALT = ("batchnorm_forward", "batchnorm_backward_alt")
GRADIENTS = ("dx", "dgamma", "dbeta")


def bn_param(mode, D, **given):
    """A bn_param for D features that spells out eps, momentum and the running
    statistics: their defaults are judged by checks of their own, never again through
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


def forward(student, x, gamma, beta, bn_param, keep_cache=True, expected=None):
    """Call the student's forward; returns (out, cache handle or value, bn_param after).
    ``out`` is a plain finite array holding N x D numbers, and not a non-answer
    (``expected``, when given, names the known mistake behind a NaN)."""
    call = student.call("batchnorm_forward", x, gamma, beta, bn_param, keep=[1] if keep_cache else [])
    return (*forward_answer(call.value, x, expected), call.args[3])


def forward_answer(value, x, expected=None):
    """(out, cache) of a forward call's return value, out checked as ``forward`` says."""
    out, cache = result_tuple(value, "batchnorm_forward", 2)
    out = plain_array(out, "out of batchnorm_forward", shape=x.shape, expected=expected)
    assert_substantive(out, "out of batchnorm_forward", x)
    return out, cache


def backward(student, function, dout, cache):
    """The three gradients, each a plain finite array holding the numbers of its shape."""
    return gradients(student.call(function, dout, cache).value, function, dout.shape)


def gradients(value, function, shape, which=(0, 1, 2)):
    """The gradients ``which`` of a backward call's return value (the others as they came)."""
    N, D = shape
    return tuple(plain_array(item, f"{name} of {function}", shape=want) if i in which else item
                 for i, (name, item, want) in enumerate(zip(GRADIENTS, result_tuple(value, function, 3),
                                                           ((N, D), (D,), (D,)))))


def stored_array(bn_param, key, D, expected=None):
    """``bn_param[key]`` after a call, as an array holding D numbers."""
    if not isinstance(bn_param, dict):
        raise CheckFailed(f"after the call, bn_param is a {type(bn_param).__name__} instead of a dict; "
                          "store the running statistics in it as bn_param['running_mean'] and the like.",
                          cause="bn_param is not a dict")
    if key not in bn_param:
        fail(f"after the call, bn_param has no {key!r}: your forward does not store them. Store the running "
             "statistics back into bn_param in both modes.", f"bn_param has no {key}",
             recognised(expected, lambda wrong: wrong is MISSING))
    return plain_array(bn_param[key], f"bn_param[{key!r}]", shape=(D,), expected=expected)


def _out(result, args):
    return result[0]


def expect_gradient(ref, function, x, gamma, beta, dout, param, i):
    """The reference's gradient ``i`` (dx, dgamma, dbeta) of ``function`` after a forward
    pass on x; its alternates hold what the reference backward gives after each known
    mistake of the forward too."""
    return ref.expect_after("batchnorm_forward", (x, gamma, beta, dict(param)), function, (dout, Previous(1)),
                            pick=lambda result, i=i: result[i])


def judge_data_preprocess(student, ref, X, tried):
    """data_preprocess is the composition of the student's own parts: it passes if it
    gives the reference's answer, or normalized(zero_centered(X)) of the student's
    functions when each of those gives the reference's answer or a known mistake's
    (so that a part's recognised mistake is charged to that part alone, and parts that
    do nothing earn their composition nothing). It must leave X as it was, unless one
    of its parts is what changed it. Returns a note when judged as a composition."""
    expected = ref.expect("data_preprocess", X)
    parts = ref.expect("zero_centered", X)
    parts = (parts, ref.expect("normalized", parts.value))
    call = student.call("data_preprocess", X)
    if not np.array_equal(call.args[0], X) and not any(_modifies(student, f, X) for f in PREPROCESSING[:2]):
        raise CheckFailed("data_preprocess(X) modified X in place; compute on a copy "
                          "(X - mean creates a new array, X -= mean does not).")
    value = call.value
    if isinstance(value, np.ndarray) and not close(value, expected.value, equal_nan=True) \
            and close(value, _own_composition(student, X, parts), equal_nan=True):
        return "Your zero_centered or normalized differs from the reference, so data_preprocess was judged as " \
               "their composition."
    got = plain_array(value, "data_preprocess(X)", shape=X.shape, expected=expected)
    assert_substantive(got, "data_preprocess(X)", X)
    assert_close(got, expected, what="data_preprocess(X)", tried=tried,
                 hint="Integer division or an integer result array truncates; convert to float first."
                 if X.dtype.kind in "iu" else "")
    return None


def _own_composition(student, X, parts):
    """normalized(zero_centered(X)) of the student's functions, or None unless each,
    on the reference's inputs, gives the reference's answer or a known mistake's."""
    inputs = (X, parts[0].value)
    try:
        for function, given, want in zip(PREPROCESSING[:2], inputs, parts):
            value = student.call(function, given).value
            answers = [want.value, *(a.value for a in want.alternates if a.function == function)]
            if not any(close(value, answer, equal_nan=True) for answer in answers):
                return None
        return student.call("normalized", student.call("zero_centered", X).value).value
    except StudentError:
        return None


def _modifies(student, function, X):
    try:
        return not np.array_equal(student.call(function, X).args[0], X)
    except StudentError:
        return False


def assert_leaves_input(call, X, function):
    if not (isinstance(call.args[0], np.ndarray) and np.array_equal(call.args[0], X)):
        raise CheckFailed(f"{function}(X) modified X in place; compute on a copy "
                          "(X - mean creates a new array, X -= mean does not).", cause=f"{function} modifies X")


# How far a forward's output may lie from the reference's, relative to its normalized
# part, for its backward to be judged against it: enough for the mistakes a batch-norm
# forward makes (the unbiased variance is 29% off at N = 2), not for a forward that does
# not normalize, whose gradient would be a different one.
PLAUSIBLE = 0.35


def judge_gradients(student, ref, function, cases, which=(0, 1, 2), directions=3):
    """Judge ``function``'s gradients (``which`` of dx, dgamma, dbeta) apart from the forward.

    ``cases`` are (seed, N, D) or (seed, N, D, constant feature) inputs. Where the
    student's forward agrees with the reference on an input, the reference gradient
    decides. Where it differs by a known mistake, or by little, the backward is judged
    against that forward: it passes if it is what the reference backward gives after
    the same known mistake, or if it agrees with the numeric gradient of the student's
    own forward. An input on which the forward gives no usable output (NaN, say) cannot
    judge the backward and is left out, as long as another one can. Returns a note for
    the student when the backward was judged against their forward."""
    note, judged, unusable = None, 0, None
    for seed, N, D, *constant in cases:
        x, gamma, beta, dout = backward_inputs(seed, N, D)
        if constant:
            x[:, constant[0]] = 1.5
        tried = f"after a train-mode forward on x of shape ({N}, {D})" + (
            " with a constant feature" if constant else "")
        param = bn_param("train", D)
        reference_out = ref.expect("batchnorm_forward", x, gamma, beta, dict(param), pick=_out)
        expected = [expect_gradient(ref, function, x, gamma, beta, dout, param, i) for i in which]
        value = student.call("batchnorm_forward", x, gamma, beta, dict(param), keep=[1]).value
        out, cache = result_tuple(value, "batchnorm_forward", 2)
        try:
            out = plain_array(out, "out of batchnorm_forward", shape=x.shape)
        except CheckFailed as err:
            unusable = err
            continue
        got = gradients(student.call(function, dout, cache).value, function, dout.shape, which)
        judged += 1
        mistake = known_mistake(out, reference_out)
        if close(out, reference_out.value) or not (mistake or _plausible(out, reference_out.value, beta)):
            for i, want in zip(which, expected):
                assert_close(got[i], want, what=f"{GRADIENTS[i]} of {function}", tried=tried, rtol=1e-5, atol=1e-8)
            continue
        own = _OwnForward(student, (x, gamma, beta), param, out, dout, seed)
        for i, want in zip(which, expected):
            after_mistake = want.alternate(mistake[0]) if mistake else None
            if after_mistake is not None and close(got[i], after_mistake.value, rtol=1e-5):
                continue
            own.judge(function, i, got[i], want.value, directions, tried)
        note = f"Your batchnorm_forward differs from the reference, so {function} was judged against your own forward."
    if not judged:
        raise CheckFailed(f"{function} could not be judged: its cache comes from batchnorm_forward, which gave "
                          f"no usable output here ({str(unusable).rstrip('.')}).", cause=unusable.cause,
                          misconception=unusable.misconception)
    return note


def _plausible(out, want, beta):
    """Whether ``out`` is batch norm with a small mistake: close to the reference's
    ``want`` relative to its normalized part (``want - beta``)."""
    return np.linalg.norm(out - want) <= PLAUSIBLE * np.linalg.norm(want - beta)


class _OwnForward:
    """Numeric gradients of the student's own forward along random directions, from
    probes that must behave like the direct call: the same input gives the same
    output, and the probes around an input average to its output. The gradient must
    also stay near batch norm's: a forward 'with a small mistake' has a gradient near
    the reference's, so one far from it (zeros, say, against a forward that dodges its
    probes) is not explained by the forward."""
    STEP = 1e-5
    TOLERANCE = 1e-5
    NEAR = 0.5  # how far from the reference gradient a small mistake of the forward may take it

    def __init__(self, student, params, param, out, dout, seed):
        self.student, self.params, self.param, self.out, self.dout = student, params, param, out, dout
        self.directions = rng(seed + 2)
        x, gamma, _ = params
        # The size gradients of this input have when normalization cancels nothing: the
        # scale against which "near zero" is judged, rather than a reference that may be tiny.
        self.natural = (np.linalg.norm(dout * gamma / np.sqrt(x.var(axis=0) + param["eps"])),
                        np.linalg.norm(dout), np.linalg.norm(dout))
        again = self._out(params)
        if not np.array_equal(again, out):
            raise CheckFailed("batchnorm_forward gave two different outputs for the same input; the forward "
                              "must be a function of its arguments alone.", cause="forward not a function")

    def _out(self, params):
        return forward(self.student, *params, dict(self.param), keep_cache=False)[0]

    def judge(self, function, i, analytic, reference, directions, tried):
        name, natural = GRADIENTS[i], self.natural[i]
        reference = np.asarray(reference, dtype=np.float64).reshape(analytic.shape)
        distance = np.linalg.norm(analytic - reference)
        if distance > self.NEAR * max(np.linalg.norm(reference), 0.05 * natural):
            raise CheckFailed(f"{name} of {function} is wrong {tried}: it is far from the gradient of batch norm "
                              f"(relative difference {distance / max(np.linalg.norm(reference), 1e-300):.2g}), "
                              "farther than the way your batchnorm_forward differs from the reference explains.")
        scale = np.abs(self.out).max() + 1.0
        for _ in range(directions):
            u = self.directions.standard_normal(self.params[i].shape)
            u /= np.linalg.norm(u)
            plus, minus = (self._out([p + sign * self.STEP * u if j == i else p for j, p in enumerate(self.params)])
                           for sign in (1, -1))
            if np.abs((plus + minus) / 2 - self.out).max() > 1e-6 * scale:
                raise CheckFailed("batchnorm_forward's output jumps when its input moves by 1e-5; the numeric "
                                  "gradient of such a forward is meaningless, so your backward could not be "
                                  "judged against it.", cause="forward not smooth")
            numeric = float(np.sum((plus - minus) * self.dout)) / (2 * self.STEP)
            exact = float(np.sum(analytic * u.reshape(analytic.shape)))
            error = abs(numeric - exact) / max(abs(numeric), abs(exact), 1e-4 * natural)
            if not error < self.TOLERANCE:
                raise CheckFailed(
                    f"{name} of {function} is wrong {tried}: your batchnorm_forward differs from the reference "
                    f"there, so {name} was judged against the numeric gradient of your own forward, and it "
                    f"disagrees along a random direction (relative error {error:.2e}, expected below "
                    f"{self.TOLERANCE:g}). Rederive the backward step for {name[1:]} through the graph "
                    "mu -> xmu -> var -> sqrtvar -> ivar -> xhat -> out.")
