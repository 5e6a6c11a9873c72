"""The public checks: the part of the grading students can run themselves.

They need no reference solution: answers come from ``expected.json`` (recorded from
the reference solution). Every student function has at least one; every output of a
function has a check of its own.
"""
from autograder.kit.framework import Suite

from .. import ASSIGNMENT
from .inputs import GROUPNORM, LAYERNORM, SPATIAL_BATCHNORM, case, tags
from .judging import GRADIENTS, judge_forward, judge_gradient, judge_gradient_shapes

suite = Suite(ASSIGNMENT, visibility="visible")


def _backward_checks(layer, seed, shape, G=None):
    """The same public checks for every backward pass: the shapes, then each gradient."""
    def small():
        return case(layer, seed, shape, G=G)

    @suite.check(f"{layer.backward}: dx, dgamma, dbeta have the shapes of x, gamma, beta", group=layer.backward,
                 points=1, tags=tags(layer, backward=True))
    def shapes(student, ref):
        judge_gradient_shapes(student, ref, layer, small())

    for name, points in zip(GRADIENTS, (2, 1, 1)):
        @suite.check(f"{layer.backward}: {name} on a small batch", group=layer.backward, points=points,
                     tags=tags(layer, backward=True))
        def gradient(student, ref, name=name):
            return judge_gradient(student, ref, layer, [small()], name)


@suite.check("layernorm_forward: every example normalized over its features", group="layernorm_forward",
             points=2, tags=tags(LAYERNORM))
def layernorm_out(student, ref):
    judge_forward(student, ref, LAYERNORM, case(LAYERNORM, 10, (6, 5)))


_backward_checks(LAYERNORM, 40, (4, 5))


@suite.check("spatial_batchnorm_forward: train-mode output", group="spatial_batchnorm_forward", points=2,
             tags=tags(SPATIAL_BATCHNORM))
def spatial_batchnorm_out(student, ref):
    judge_forward(student, ref, SPATIAL_BATCHNORM, case(SPATIAL_BATCHNORM, 20, (3, 3, 2, 3)))


def _running_average_check(key, seed):
    @suite.check(f"spatial_batchnorm_forward: {key} after one training step", group="spatial_batchnorm_forward",
                 points=1, tags=tags(SPATIAL_BATCHNORM))
    def running_average(student, ref):
        judge_forward(student, ref, SPATIAL_BATCHNORM, case(SPATIAL_BATCHNORM, seed, (4, 3, 2, 2)), key)


_running_average_check("running_mean", 21)
_running_average_check("running_var", 22)
_backward_checks(SPATIAL_BATCHNORM, 50, (2, 3, 2, 2))


@suite.check("spatial_groupnorm_forward: every group of every example normalized", group="spatial_groupnorm_forward",
             points=2, tags=tags(GROUPNORM))
def groupnorm_out(student, ref):
    judge_forward(student, ref, GROUPNORM, case(GROUPNORM, 30, (2, 6, 2, 2), G=3))


_backward_checks(GROUPNORM, 60, (2, 4, 2, 2), G=2)
