"""The public checks: the part of the grading students can run themselves.

They need no reference solution: answers come from ``expected.json`` (recorded from
the reference solution). Every student function has at least one.
"""
import numpy as np

from ...compare import assert_close, assert_shape, assert_true, plain_array
from ...framework import Suite
from ...runner import Seed

from .. import ASSIGNMENT
from .draws import FAN_IN, FAN_OUT, assert_scale, draw
from .gradients import GRADIENTS, SHAPES, judge_gradient, judge_shape
from .inputs import (
    BACKWARD,
    BACKWARD_ALT,
    FORWARD,
    PREPROCESSING,
    RUNNING,
    batch,
    bn_param,
    judge_data_preprocess,
    judge_forward,
    rng,
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
    what = f"xavier_init({fan_in}, {fan_out}, rng=...)"
    first = plain_array(student.call("xavier_init", fan_in, fan_out, rng=Seed(5)).value, what, shape=(fan_in, fan_out))
    again = student.call("xavier_init", fan_in, fan_out, rng=Seed(5)).value
    assert_true(isinstance(again, np.ndarray) and np.array_equal(first, again),
                "two calls of xavier_init(400, 300, rng=g) with generators seeded alike gave different "
                "weights; draw every random number from rng (rng.standard_normal), not np.random.")
    assert_scale(first, 1 / np.sqrt(fan_in), what, ref, "xavier_init", fan=(fan_in, fan_out), seed=5)


@suite.check("he_init: mean 0 and variance 2/fan_in", group="initializers", points=1, tags=["he_init"])
def he_scale(student, ref):
    assert_scale(draw(student, "he_init"), np.sqrt(2 / FAN_IN), f"he_init({FAN_IN}, {FAN_OUT})", ref, "he_init")


@suite.check("batchnorm_forward: train-mode output", group="batchnorm_forward", points=2, tags=FORWARD)
def forward_train(student, ref):
    x, gamma, beta = batch(20, 8, 5)
    judge_forward(student, ref, x, gamma, beta, bn_param("train", 5), "out", "in train mode for x of shape (8, 5)")


def _running_one_step(key):
    @suite.check(f"batchnorm_forward: {key} after one training step", group="batchnorm_forward", points=1,
                 tags=FORWARD)
    def one_step(student, ref):
        x, gamma, beta = batch(21, 10, 4)
        judge_forward(student, ref, x, gamma, beta, bn_param("train", 4), key,
                      "after one train step (momentum 0.9, running averages starting at 0)")


for _key in RUNNING:
    _running_one_step(_key)

# A backward pass's points, per gradient: dx is most of the work.
PUBLIC_POINTS = {"batchnorm_backward": (1.5, 0.5, 0.5), "batchnorm_backward_alt": (1, 0.5, 0.5)}


def _backward_checks(function, tags, seed):
    """The same public checks for either backward function: each gradient's value
    and shape, each a check of its own."""
    for i, name in enumerate(GRADIENTS):
        @suite.check(f"{function}: {name} on a small batch", group=function, points=PUBLIC_POINTS[function][i],
                     tags=tags)
        def value(student, ref, i=i):
            return judge_gradient(student, ref, function, i, [(seed + 1, 4, 5)])

    for i, name in enumerate(GRADIENTS):
        @suite.check(f"{function}: {name} has shape {SHAPES[i]}", group=function, points=0.5, tags=tags)
        def shape(student, ref, i=i):
            judge_shape(student, ref, function, i, seed)


_backward_checks("batchnorm_backward", BACKWARD, 30)
_backward_checks("batchnorm_backward_alt", BACKWARD_ALT, 40)
