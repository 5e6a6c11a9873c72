"""The public checks: the part of the grading students can run themselves.

They need no reference solution: answers come from ``expected.json`` (recorded from
the reference solution). Every student function has at least one.
"""
import numpy as np

from ...compare import (
    assert_close,
    assert_shape,
    assert_substantive,
    assert_true,
    plain_array,
    result_tuple,
)
from ...framework import Suite
from ...runner import Seed

from .. import ASSIGNMENT
from .draws import FAN_IN, FAN_OUT, assert_scale, draw
from .inputs import (
    BACKWARD,
    BACKWARD_ALT,
    FORWARD,
    GRADIENTS,
    PREPROCESSING,
    bn_param,
    backward_inputs,
    expect_gradient,
    batch,
    forward,
    judge_data_preprocess,
    judge_gradients,
    rng,
    stored_array,
)

suite = Suite(ASSIGNMENT, visibility="visible")


@suite.check("zero_centered: a (N, D) batch", group="preprocessing", points=1, tags=["zero_centered"])
def zero_centered_batch(student, ref):
    X = rng(10).normal(3.0, 2.0, (20, 6))
    got = student.call("zero_centered", X).value
    assert_close(got, ref.expect("zero_centered", X), what="zero_centered(X)",
                 tried="for X of shape (20, 6)")


@suite.check("normalized: a batch with a constant feature", group="preprocessing", points=2,
             tags=["normalized"])
def normalized_constant(student, ref):
    X = rng(11).normal(0.0, 4.0, (15, 5))
    X[:, 2] = 7.0
    got = student.call("normalized", X).value
    assert_close(got, ref.expect("normalized", X), what="normalized(X)",
                 tried="for X of shape (15, 5) whose third feature is constant (std 0, divided by 1)")


@suite.check("data_preprocess: normalized(zero_centered(X)) on a (50, 4) batch", group="preprocessing",
             points=1, tags=PREPROCESSING)
def preprocess_batch(student, ref):
    return judge_data_preprocess(student, ref, rng(12).normal(5.0, 3.0, (50, 4)), "for X of shape (50, 4)")


@suite.check("zeros_init: shape, dtype and values", group="initializers", points=1, tags=["zeros_init"])
def zeros_basic(student, ref):
    W = assert_shape(student.call("zeros_init", 7, 3).value, np.zeros((7, 3)), what="zeros_init(7, 3)",
                     function="zeros_init")
    assert_true(W.dtype == np.float64, f"zeros_init(7, 3) has dtype {W.dtype}; expected float64.")
    assert_true(not W.any(), "zeros_init(7, 3) holds non-zero values.")


@suite.check("random_init: mean 0 and the requested std (1e-2 and 1)", group="initializers", points=1,
             tags=["random_init"])
def random_scale(student, ref):
    for std in (1e-2, 1.0):
        assert_scale(draw(student, "random_init", std), std, f"random_init({FAN_IN}, {FAN_OUT}, std={std})",
                     ref, "random_init", std)


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


@suite.check("he_init: mean 0 and variance 2/fan_in", group="initializers", points=1, tags=["he_init"])
def he_scale(student, ref):
    assert_scale(draw(student, "he_init"), np.sqrt(2 / FAN_IN), f"he_init({FAN_IN}, {FAN_OUT})", ref, "he_init")


@suite.check("batchnorm_forward: train-mode output", group="batchnorm_forward", points=2, tags=FORWARD)
def forward_train(student, ref):
    x, gamma, beta = batch(20, 8, 5)
    expected = ref.expect("batchnorm_forward", x, gamma, beta, bn_param("train", 5),
                          pick=lambda result, args: result[0])
    out, _, _ = forward(student, x, gamma, beta, bn_param("train", 5))
    assert_close(out, expected, what="out of batchnorm_forward", tried="in train mode for x of shape (8, 5)")


@suite.check("batchnorm_forward: running averages after one training step", group="batchnorm_forward",
             points=2, tags=FORWARD)
def forward_running_one_step(student, ref):
    x, gamma, beta = batch(21, 10, 4)
    expected = {key: ref.expect("batchnorm_forward", x, gamma, beta, bn_param("train", 4),
                                pick=lambda result, args, key=key: args[3][key])
                for key in ("running_mean", "running_var")}
    _, _, after = forward(student, x, gamma, beta, bn_param("train", 4))
    for key, want in expected.items():
        assert_close(stored_array(after, key, 4, want), want, what=f"bn_param[{key!r}]",
                     tried="after one train step "
                           "(momentum 0.9, running statistics starting at 0)")


def _backward_checks(function, tags, seed, points):
    """The same two public checks for either backward function (group = function)."""
    @suite.check(f"{function}: returns dx, dgamma, dbeta of the right shapes", group=function, points=1,
                 tags=tags)
    def shapes(student, ref):
        x, gamma, beta, dout = backward_inputs(seed, 6, 3)
        param = bn_param("train", 3)
        expected = [expect_gradient(ref, function, x, gamma, beta, dout, param, i) for i in range(3)]
        _, cache, _ = forward(student, x, gamma, beta, dict(param))
        got = result_tuple(student.call(function, dout, cache).value, function, 3)
        for name, value, want in zip(GRADIENTS, got, expected):
            what = f"{name} of {function}"
            assert_substantive(assert_shape(value, want, what=what, function=function), what, dout)

    @suite.check(f"{function}: dx, dgamma and dbeta on a small batch", group=function, points=points,
                 tags=tags)
    def small_batch(student, ref):
        return judge_gradients(student, ref, function, [(seed + 1, 4, 5)])


_backward_checks("batchnorm_backward", BACKWARD, 30, points=3)
_backward_checks("batchnorm_backward_alt", BACKWARD_ALT, 40, points=2)
