"""Hidden checks of batchnorm_backward and batchnorm_backward_alt.

Both are judged the same way, each with its own points: against the reference
gradient (which needs a correct forward too), and against numeric gradients of the
student's own forward (which does not), so a backward that is right for a slightly
wrong forward keeps part of its credit.
"""
import numpy as np

from autograder.public.compare import assert_close, assert_true
from autograder.public.framework import CheckFailed, Suite
from autograder.public.inputs import BACKWARD, BACKWARD_ALT, backward, backward_inputs, forward, gradient_check, rng

suite = Suite(hidden=True)
NAMES = ("dx", "dgamma", "dbeta")


def _against_reference(student, ref, function, seed, N, D, which, constant=None):
    x, gamma, beta, dout = backward_inputs(seed, N, D)
    if constant is not None:
        x[:, constant] = 1.5
    _, cache, _ = forward(student, x, gamma, beta, {"mode": "train"})
    got = backward(student, function, dout, cache)
    shape = f"x of shape ({N}, {D})" + (" with a constant feature" if constant is not None else "")
    for i in which:
        assert_close(got[i], ref.expect_backward(function, x, gamma, beta, dout, pick=lambda r, i=i: r[i]),
                     what=f"{NAMES[i]} of {function}", tried=f"after a train-mode forward on {shape}",
                     rtol=1e-5, atol=1e-8)


def _directional(student, function, seed, N, D, tolerance=1e-6):
    """Fast mode of a gradient check: a few random directions on a large input."""
    x, gamma, beta, dout = backward_inputs(seed, N, D)
    _, cache, _ = forward(student, x, gamma, beta, {"mode": "train"})
    dx, _, _ = backward(student, function, dout, cache)
    directions = rng(seed + 2)
    for _ in range(3):
        error = gradient_check.directional_gradient_check(
            lambda v: forward(student, v, gamma, beta, {"mode": "train"}, keep_cache=False)[0],
            x, dout, dx, directions)
        if not error < tolerance:
            raise CheckFailed(f"dx of {function} disagrees with your own batchnorm_forward along a random "
                              f"direction on x of shape ({N}, {D}): relative error {error:.2e}, expected "
                              f"below {tolerance:g}.")


def _leaves_dout(student, function):
    x, gamma, beta, dout = backward_inputs(390, 5, 3)
    _, cache, _ = forward(student, x, gamma, beta, {"mode": "train"})
    after = student.call(function, dout, cache).args[0]
    assert_true(isinstance(after, np.ndarray) and np.array_equal(after, dout),
                f"{function} modified dout in place; compute new arrays instead.")


def _register(function, group, tags, points):
    """The same five checks for either backward function, with its own points."""
    @suite.check(f"{function}: dx matches the reference gradient", group=group, points=points["dx"],
                 tags=tags)
    def dx_reference(student, ref):
        _against_reference(student, ref, function, 310, 8, 5, which=[0])

    @suite.check(f"{function}: dgamma and dbeta match the reference", group=group,
                 points=points["dparams"], tags=tags)
    def params_reference(student, ref):
        _against_reference(student, ref, function, 320, 8, 5, which=[1, 2])

    @suite.check(f"{function}: other shapes, a constant feature, N = 2", group=group,
                 points=points["shapes"], tags=tags)
    def other_shapes(student, ref):
        _against_reference(student, ref, function, 330, 16, 7, which=[0, 1, 2], constant=3)
        _against_reference(student, ref, function, 340, 2, 3, which=[0, 1, 2])

    @suite.check(f"{function}: consistent with your forward on a large batch", group=group,
                 points=points["directional"], tags=tags)
    def directional(student, ref):
        _directional(student, function, 350, 64, 32)

    @suite.check(f"{function}: dout is not modified", group=group, points=points["dout"], tags=tags)
    def leaves_dout(student, ref):
        _leaves_dout(student, function)


_register("batchnorm_backward", "batchnorm_backward", BACKWARD,
          {"dx": 4, "dparams": 2, "shapes": 2, "directional": 2, "dout": 1})
_register("batchnorm_backward_alt", "batchnorm_backward_alt", BACKWARD_ALT,
          {"dx": 3, "dparams": 1, "shapes": 1, "directional": 1, "dout": 1})
