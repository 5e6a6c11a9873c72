"""Judging a backward pass's gradients, each on its own and apart from the forward.

A backward pass is right when it computes the right gradient. Where the student's
forward gives the reference's output, the reference gradient decides. Where it
differs (by a known mistake, or by one no catalogue knows, as long as it still
normalizes every feature: its output ignores a shift of each feature's mean and x
doubled), the
backward cannot be blamed for what the forward did: a gradient passes if it is batch
norm's true gradient at that input, what the reference backward gives after the same
known mistake of the forward, or the numeric gradient of the student's own forward.
A forward that does not normalize (x + 1 or x - mean, say) has a gradient that teaches
little of batch norm's: there the reference gradient decides, and the feedback names
the forward as the likely cause.
"""
import numpy as np

from autograder.kit.compare import (
    assert_close,
    assert_not_nothing,
    assert_shape,
    assert_substantive,
    close,
    known_mistake,
    plain_array,
    result_tuple,
    unchanged_by,
)
from autograder.kit.framework import CheckFailed, Previous, retried_without

from .inputs import RUNNING, _out, backward_inputs, bn_param, forward, rng

GRADIENTS = ("dx", "dgamma", "dbeta")
SHAPES = ("(N, D)", "(D,)", "(D,)")


def expect_gradient(ref, function, x, gamma, beta, dout, param, i):
    """The reference's gradient ``i`` (dx, dgamma, dbeta) of ``function`` after a forward
    pass on x; its alternates hold what the reference backward gives after each known
    mistake of the forward too."""
    return ref.expect_after("batchnorm_forward", (x, gamma, beta, dict(param)), function, (dout, Previous(1)),
                            pick=lambda result, i=i: result[i])


def expect_gradients(ref, function, x, gamma, beta, dout, param):
    return [expect_gradient(ref, function, x, gamma, beta, dout, param, i) for i in range(3)]


def gradient(raw, i, function, shape, expected=None, call=()):
    """Gradient ``i`` of a backward call's three results ``raw``, as a plain finite
    array holding the numbers of its shape."""
    N, D = shape
    name = GRADIENTS[i]
    if i and isinstance(raw[i], np.ndarray) and raw[i].shape == (N,) and N != D:
        raise CheckFailed(f"{name} of {function} has shape ({N},), one value per example; gamma and beta have "
                          f"one value per feature, shape ({D},), and so must {name}: sum over the examples "
                          "(axis 0).", cause=f"{name} of {function} has the wrong shape")
    return plain_array(raw[i], f"{name} of {function}", shape=(N, D) if i == 0 else (D,), expected=expected,
                       call=call)


def judge_shape(student, ref, function, i, seed):
    """The shape of gradient ``i`` on its own, from a call that also returns a real answer there."""
    x, gamma, beta, dout = backward_inputs(seed, 6, 3)
    param = bn_param("train", 3)
    expected = expect_gradients(ref, function, x, gamma, beta, dout, param)
    _, (_, cache, _) = retried_without(lambda p: forward(student, x, gamma, beta, p), param, RUNNING)
    raw = result_tuple(student.call(function, dout, cache).value, function, 3)
    call = [(raw[j], expected[j]) for j in range(3) if j != i]
    what = f"{GRADIENTS[i]} of {function}"
    assert_substantive(assert_shape(raw[i], expected[i], what=what, function=function, call=call), what, dout)


def judge_gradient(student, ref, function, i, cases, directions=3):
    """Judge gradient ``i`` (0, 1, 2: dx, dgamma, dbeta) of ``function`` on ``cases``,
    (seed, N, D) or (seed, N, D, constant feature) inputs, apart from the forward (see
    above). An input on which the forward gives no usable output (NaN, say) cannot
    judge the backward and is left out, as long as another one can. Returns a note for
    the student when the backward was judged against their forward."""
    name = GRADIENTS[i]
    note, judged, unusable = None, 0, None
    for seed, N, D, *constant in cases:
        x, gamma, beta, dout = backward_inputs(seed, N, D)
        if constant:
            x[:, constant[0]] = 1.5
        tried = f"after a train-mode forward on x of shape ({N}, {D})" + (
            " with a constant feature" if constant else "")
        param = bn_param("train", D)
        reference_out = ref.expect("batchnorm_forward", x, gamma, beta, dict(param), pick=_out)
        expected = expect_gradients(ref, function, x, gamma, beta, dout, param)
        # The reference was asked about bn_param as given; the running averages change no
        # train-mode output, so a forward that raises only with them gives its cache without.
        param, value = retried_without(lambda p, args=(x, gamma, beta): student.call(
            "batchnorm_forward", *args, dict(p), keep=[1]).value, param, RUNNING)
        out, cache = result_tuple(value, "batchnorm_forward", 2)
        try:
            out = plain_array(out, "out of batchnorm_forward", shape=x.shape)
        except CheckFailed as err:
            raw = result_tuple(student.call(function, dout, cache).value, function, 3)
            assert_not_nothing(raw[i], f"{name} of {function}", dout)
            unusable = err
            continue
        raw = result_tuple(student.call(function, dout, cache).value, function, 3)
        call = [(raw[j], expected[j]) for j in range(3) if j != i]
        got = gradient(raw, i, function, dout.shape, expected[i], call)
        judged += 1
        mistake = known_mistake(out, reference_out)
        if close(out, reference_out.value):
            assert_close(got, expected[i], what=f"{name} of {function}", tried=tried, rtol=1e-5, atol=1e-8, call=call)
            continue
        if not (mistake or _normalizes(student, x, gamma, beta, param, out)):
            if close(got, expected[i].value, rtol=1e-5):
                continue
            raise CheckFailed(
                f"{name} of {function} is wrong {tried}. Your batchnorm_forward gives another output than the "
                "reference there, and one that changes when the mean of a feature moves or when x is doubled, so it "
                "does not normalize every feature and your gradient cannot be judged against it: the likely cause "
                "is the forward. "
                "Make it right first, then check the backward passes again.", cause="forward does not normalize")
        note = (f"Your batchnorm_forward differs from the reference, so {function} was judged against your own "
                f"forward: each gradient passes when it is batch norm's true gradient, what the reference "
                "backward gives after the same mistake, or the numeric gradient of your forward.")
        after_mistake = expected[i].alternate(mistake[0]) if mistake else None
        if close(got, expected[i].value, rtol=1e-5) or (
                after_mistake is not None and close(got, after_mistake.value, rtol=1e-5)):
            continue
        _OwnForward(student, (x, gamma, beta), param, out, dout, seed).judge(function, i, got, expected[i].value,
                                                                           directions, tried)
    if not judged:
        raise CheckFailed(f"{function} could not be judged: its cache comes from batchnorm_forward, which gave "
                          f"no usable output here ({str(unusable).rstrip('.')}).", cause=unusable.cause,
                          misconception=unusable.misconception)
    return note


def leaves_dout(student, function):
    """dout is not modified, by a call that also returns a real answer: at least one
    of the three gradients a plain array that is not zeros or dout itself."""
    x, gamma, beta, dout = backward_inputs(390, 5, 3)
    _, (_, cache, _) = retried_without(lambda p: forward(student, x, gamma, beta, p), bn_param("train", 3), RUNNING)
    call = student.call(function, dout, cache)
    raw = result_tuple(call.value, function, 3)
    reasons = []
    for i, name in enumerate(GRADIENTS):
        try:
            assert_substantive(gradient(raw, i, function, dout.shape), f"{name} of {function}", dout)
            break
        except CheckFailed as err:
            reasons.append(err)
    else:
        raise CheckFailed(f"{function} returned no real gradient, so whether it leaves dout alone cannot earn "
                          f"points ({str(reasons[0]).rstrip('.')}).", cause=reasons[0].cause,
                          misconception=reasons[0].misconception)
    if not (isinstance(call.args[0], np.ndarray) and np.array_equal(call.args[0], dout)):
        raise CheckFailed(f"{function} modified dout in place; compute new arrays instead.")


def _normalizes(student, x, gamma, beta, param, out):
    """Whether the student's forward still normalizes every feature: its output ``out``
    stays the same when a random amount is added to each feature of x, and when x is
    doubled (up to what eps changes then): it centres and it scales."""
    def out_of(moved):
        return result_tuple(student.call("batchnorm_forward", moved, gamma, beta, dict(param)).value,
                            "batchnorm_forward", 2)[0]
    return unchanged_by(out_of, out, [(x + rng(7).uniform(-2.0, 2.0, (1, x.shape[1])), 1e-6), (2.0 * x, 1e-3)])


class _OwnForward:
    """Numeric gradients of the student's own forward along random directions, from
    probes that must behave like the direct call: the same input gives the same
    output, and the probes around an input average to its output. The gradient must
    also not be near zero where batch norm's is not, which a forward that answers its
    probes with its last output would otherwise explain. (A forward that keeps a model
    of its probes can still answer them with any gradient; README's scoring section
    says what that leaves open.)"""
    STEP = 1e-5
    TOLERANCE = 1e-5
    FLOOR = 1e-3  # the smallest size, relative to the reference gradient's, a gradient may have

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
        return forward(self.student, *params, dict(self.param))[0]

    def judge(self, function, i, analytic, reference, directions, tried):
        name, natural = GRADIENTS[i], self.natural[i]
        # The same cause for every gradient of this backward: explained once.
        cause = f"{function} matches neither batch norm nor your forward"
        reference = np.asarray(reference, dtype=np.float64).reshape(analytic.shape)
        size = max(np.linalg.norm(reference), 0.05 * natural)
        if np.linalg.norm(analytic) < self.FLOOR * size and np.linalg.norm(analytic - reference) > 0.5 * size:
            raise CheckFailed(
                f"{name} of {function} is wrong {tried}: it is almost zero ({np.linalg.norm(analytic):.2g} against "
                f"{np.linalg.norm(reference):.2g} for batch norm's gradient), which the way your batchnorm_forward "
                "differs from the reference does not explain.", cause=cause)
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
                    f"{name} of {function} is wrong {tried}. Your batchnorm_forward differs from the reference "
                    f"there, so {name} was compared with batch norm's gradient, with what the reference backward "
                    "gives after the same mistake and with the numeric gradient of your own forward, and it is "
                    f"none of them (relative error {error:.2e} against your forward's along a random direction).\n"
                    "The difference in your batchnorm_forward is the likely cause: fix it first, then check the "
                    "backward passes again. If they still fail, rederive the backward step by step through the "
                    "graph mu -> xmu -> var -> sqrtvar -> ivar -> xhat -> out.", cause=cause)
