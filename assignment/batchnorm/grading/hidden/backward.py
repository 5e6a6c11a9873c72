"""Hidden checks of batchnorm_backward and batchnorm_backward_alt.

Both are judged the same way, each with its own points, and apart from the forward
(``judge_gradients``): the reference gradient decides where the student's forward
agrees with the reference; elsewhere the backward is judged against the student's
own forward, so a mistake of the forward is never charged to the backward.
"""
import numpy as np

from autograder.kit.compare import assert_substantive, assert_true
from autograder.kit.framework import Suite

from .. import ASSIGNMENT
from ..public.inputs import (
    BACKWARD,
    BACKWARD_ALT,
    GRADIENTS,
    bn_param,
    backward_inputs,
    forward,
    gradients,
    judge_gradients,
)

suite = Suite(ASSIGNMENT, hidden=True)


def _leaves_dout(student, function):
    """dout is not modified, by a call that also returns real gradients."""
    x, gamma, beta, dout = backward_inputs(390, 5, 3)
    _, cache, _ = forward(student, x, gamma, beta, bn_param("train", 3))
    call = student.call(function, dout, cache)
    for name, value in zip(GRADIENTS, gradients(call.value, function, dout.shape)):
        assert_substantive(value, f"{name} of {function}", dout)
    after = call.args[0]
    assert_true(isinstance(after, np.ndarray) and np.array_equal(after, dout),
                f"{function} modified dout in place; compute new arrays instead.")


def _register(function, group, tags, points):
    """The same five checks for either backward function, with its own points."""
    @suite.check(f"{function}: dx matches the reference gradient", group=group, points=points["dx"],
                 tags=tags)
    def dx_reference(student, ref):
        return judge_gradients(student, ref, function, [(310, 8, 5)], which=[0])

    @suite.check(f"{function}: dgamma and dbeta match the reference", group=group,
                 points=points["dparams"], tags=tags)
    def params_reference(student, ref):
        return judge_gradients(student, ref, function, [(320, 8, 5)], which=[1, 2])

    @suite.check(f"{function}: other shapes, a constant feature, N = 2", group=group,
                 points=points["shapes"], tags=tags)
    def other_shapes(student, ref):
        return judge_gradients(student, ref, function, [(330, 16, 7, 3), (340, 2, 3)])

    @suite.check(f"{function}: dx on a large batch", group=group, points=points["large"], tags=tags)
    def large(student, ref):
        return judge_gradients(student, ref, function, [(350, 64, 32)], which=[0])

    @suite.check(f"{function}: dout is not modified", group=group, points=points["dout"], tags=tags)
    def leaves_dout(student, ref):
        _leaves_dout(student, function)


_register("batchnorm_backward", "batchnorm_backward", BACKWARD,
          {"dx": 4, "dparams": 2, "shapes": 2, "large": 2, "dout": 1})
_register("batchnorm_backward_alt", "batchnorm_backward_alt", BACKWARD_ALT,
          {"dx": 3, "dparams": 1, "shapes": 1, "large": 1, "dout": 1})
