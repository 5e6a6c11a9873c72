"""The public checks: the part of the grading students can run themselves.

They need no reference solution: answers come from ``expected.json`` (recorded from
the reference solution) or from numeric gradients of the student's own forward.
"""
import numpy as np

from .compare import assert_close, assert_true, plain_array
from .framework import Suite
from .inputs import BACKWARD, BACKWARD_ALT, FORWARD, PREPROCESSING, backward, batch, forward, \
    own_gradient_check, rng, stored_array
from .runner import Seed

suite = Suite(visibility="visible")


@suite.check("zero_centered: a (N, D) batch", group="preprocessing", points=1, tags=["zero_centered"])
def zero_centered_batch(student, ref):
    X = rng(10).normal(3.0, 2.0, (20, 6))
    got = student.call("zero_centered", X).value
    assert_close(got, ref.expect("zero_centered", X), what="zero_centered(X)",
                 tried="for X of shape (20, 6)")


@suite.check("normalized: a batch with a constant feature", group="preprocessing", points=1,
             tags=["normalized"])
def normalized_constant(student, ref):
    X = rng(11).normal(0.0, 4.0, (15, 5))
    X[:, 2] = 7.0
    got = student.call("normalized", X).value
    assert_close(got, ref.expect("normalized", X), what="normalized(X)",
                 tried="for X of shape (15, 5) whose third feature is constant (std 0, divided by 1)")


@suite.check("data_preprocess: every feature has mean 0 and std 1", group="preprocessing", points=1,
             tags=PREPROCESSING)
def preprocess_stats(student, ref):
    X = rng(12).normal(5.0, 3.0, (50, 4))
    got = plain_array(student.call("data_preprocess", X).value, "data_preprocess(X)", shape=X.shape)
    assert_close(got.mean(axis=0), np.zeros(4), what="the per-feature mean of data_preprocess(X)",
                 tried="for X of shape (50, 4)", atol=1e-9)
    assert_close(got.std(axis=0), np.ones(4), what="the per-feature std of data_preprocess(X)",
                 tried="for X of shape (50, 4)")


@suite.check("zeros_init: shape, dtype and values", group="initializers", points=1, tags=["zeros_init"])
def zeros_basic(student, ref):
    W = plain_array(student.call("zeros_init", 7, 3).value, "zeros_init(7, 3)", shape=(7, 3))
    assert_true(W.dtype == np.float64, f"zeros_init(7, 3) has dtype {W.dtype}; expected float64.")
    assert_true(not W.any(), "zeros_init(7, 3) holds non-zero values.")


@suite.check("xavier_init: reproducible from a seeded rng, variance 1/fan_in", group="initializers",
             points=1, tags=["xavier_init"])
def xavier_basic(student, ref):
    fan_in, fan_out = 400, 300
    first = plain_array(student.call("xavier_init", fan_in, fan_out, rng=Seed(5)).value,
                        "xavier_init(400, 300, rng=...)", shape=(fan_in, fan_out))
    again = student.call("xavier_init", fan_in, fan_out, rng=Seed(5)).value
    assert_true(isinstance(again, np.ndarray) and np.array_equal(first, again),
                "two calls of xavier_init(400, 300, rng=g) with generators seeded alike gave different "
                "weights; draw every random number from rng (rng.standard_normal), not np.random.")
    std = first.std()
    assert_true(abs(std * np.sqrt(fan_in) - 1) < 0.03,
                f"xavier_init(400, 300) has standard deviation {std:.4f}; expected "
                f"1/sqrt(fan_in) = {1 / np.sqrt(fan_in):.4f}.")


@suite.check("batchnorm_forward: train-mode output", group="batchnorm_forward", points=2, tags=FORWARD)
def forward_train(student, ref):
    x, gamma, beta = batch(20, 8, 5)
    out, _, _ = forward(student, x, gamma, beta, {"mode": "train"})
    assert_close(out, ref.expect("batchnorm_forward", x, gamma, beta, {"mode": "train"},
                                 pick=lambda result, args: result[0]),
                 what="out of batchnorm_forward", tried="in train mode for x of shape (8, 5)")


@suite.check("batchnorm_forward: running averages after one training step", group="batchnorm_forward",
             points=2, tags=FORWARD)
def forward_running_one_step(student, ref):
    x, gamma, beta = batch(21, 10, 4)
    _, _, after = forward(student, x, gamma, beta, {"mode": "train"})
    for key in ("running_mean", "running_var"):
        assert_close(stored_array(after, key, 4),
                     ref.expect("batchnorm_forward", x, gamma, beta, {"mode": "train"},
                                pick=lambda result, args, key=key: args[3][key]),
                     what=f"bn_param[{key!r}]", tried="after one train step from empty bn_param "
                                                     "(momentum 0.9, running statistics starting at 0)")


def _backward_checks(function, tags, seed, numeric_points):
    """The same two public checks for either backward function (group = function)."""
    @suite.check(f"{function}: returns dx, dgamma, dbeta of the right shapes", group=function, points=1,
                 tags=tags)
    def shapes(student, ref):
        x, gamma, beta = batch(seed, 6, 3)
        _, cache, _ = forward(student, x, gamma, beta, {"mode": "train"})
        backward(student, function, np.ones_like(x), cache)

    @suite.check(f"{function}: agrees with the numeric gradient of your forward", group=function,
                 points=numeric_points, tags=tags)
    def numeric(student, ref):
        own_gradient_check(student, function, seed + 1, 4, 5)


_backward_checks("batchnorm_backward", BACKWARD, 30, numeric_points=3)
_backward_checks("batchnorm_backward_alt", BACKWARD_ALT, 40, numeric_points=2)
