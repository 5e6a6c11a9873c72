"""Hidden checks of batchnorm_backward and batchnorm_backward_alt.

Both are judged the same way, each with its own points: every gradient (dx, dgamma,
dbeta) by checks of its own, so that one wrong gradient costs its share, and apart
from the forward (``public/gradients.py``), so that a mistake of the forward is never
charged to the backward.
"""
from autograder.kit.framework import Suite

from .. import ASSIGNMENT
from ..public.gradients import judge_gradient, leaves_dout
from ..public.inputs import BACKWARD, BACKWARD_ALT

suite = Suite(ASSIGNMENT, hidden=True)
OTHER_SHAPES = [(330, 16, 7, 3), (340, 2, 3)]  # (seed, N, D[, constant feature])


def _register(function, tags, points):
    """The same checks for either backward function, with its own points."""
    def check(name, what):
        return suite.check(f"{function}: {name}", group=function, points=points[what], tags=tags)

    @check("dx matches the reference gradient", "dx")
    def dx_reference(student, ref):
        return judge_gradient(student, ref, function, 0, [(310, 8, 5)])

    @check("dx on other shapes, a constant feature, N = 2", "dx shapes")
    def dx_other_shapes(student, ref):
        return judge_gradient(student, ref, function, 0, OTHER_SHAPES)

    @check("dx on a large batch", "dx large")
    def dx_large(student, ref):
        return judge_gradient(student, ref, function, 0, [(350, 64, 32)])

    for i, name in ((1, "dgamma"), (2, "dbeta")):
        @check(f"{name} on several shapes, a constant feature, N = 2", name)
        def parameter(student, ref, i=i):
            return judge_gradient(student, ref, function, i, [(320, 8, 5), *OTHER_SHAPES])

    @check("dout is not modified", "dout")
    def dout_left(student, ref):
        leaves_dout(student, function)


_register("batchnorm_backward", BACKWARD, {"dx": 3, "dx shapes": 2, "dx large": 2, "dgamma": 1.5, "dbeta": 1.5,
                                           "dout": 1})
_register("batchnorm_backward_alt", BACKWARD_ALT, {"dx": 2, "dx shapes": 1, "dx large": 1, "dgamma": 1, "dbeta": 1,
                                                   "dout": 0.5})
