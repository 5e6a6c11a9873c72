"""Hidden checks of spatial_groupnorm_forward and spatial_groupnorm_backward."""
from autograder.kit.framework import Suite

from .. import ASSIGNMENT
from ..public.inputs import GROUPNORM, case, constant, tags
from ..public.judging import (
    assert_same_outputs,
    judge_forward,
    judge_forward_shapes,
    judge_gradient,
    judge_leaves_arguments,
    judge_leaves_dout,
)

suite = Suite(ASSIGNMENT, hidden=True)
LAYER = GROUPNORM
FORWARD, BACKWARD = tags(LAYER), tags(LAYER, backward=True)


def _out_check(name, make):
    @suite.check(f"spatial_groupnorm_forward: {name}", group="spatial_groupnorm_forward", points=1, tags=FORWARD)
    def value(student, ref):
        judge_forward(student, ref, LAYER, make())


@suite.check("spatial_groupnorm_forward: out has the shape of x", group="spatial_groupnorm_forward", points=1,
             tags=FORWARD)
def forward_shapes(student, ref):
    judge_forward_shapes(student, ref, LAYER, case(LAYER, 300, (2, 6, 2, 2), G=3))


_out_check("G = 1 (layer normalization of every example)", lambda: case(LAYER, 301, (3, 4, 3, 2), G=1))
_out_check("G = C (every channel of every example on its own)", lambda: case(LAYER, 302, (3, 4, 3, 2), G=4))
_out_check("a group whose values are all equal (variance 0)",
           lambda: constant(case(LAYER, 303, (3, 6, 2, 2), G=3), (1, slice(2, 4)),
                            words="whose second example has channels 3 and 4 (group 2) 1.5 everywhere"))
_out_check("groups of tiny variance (eps matters)",
           lambda: case(LAYER, 304, (2, 4, 3, 3), G=2, scale=1e-4, words="every group with a variance below eps"))
_out_check("large offsets (values around 1e4)",
           lambda: case(LAYER, 305, (4, 8, 4, 4), G=4, mean=1e4, words="values around 1e4"))
_out_check("a batch of one example (N = 1)", lambda: case(LAYER, 306, (1, 6, 3, 3), G=2))
_out_check("a given eps is honoured",
           lambda: case(LAYER, 307, (2, 4, 2, 3), G=2, scale=0.1, param={"eps": 0.05}, words="eps = 0.05"))


@suite.check("spatial_groupnorm_forward: eps defaults to 1e-5", group="spatial_groupnorm_forward", points=1,
             tags=FORWARD)
def forward_default_eps(student, ref):
    given = case(LAYER, 308, (3, 4, 2, 2), G=2, scale=3e-3, words="variances near 1e-5, with gn_param = {'eps': 1e-5}")
    assert_same_outputs(student, LAYER, given, given.with_param({}, "with gn_param = {}"), ["out"],
                        "when gn_param has no 'eps', your spatial_groupnorm_forward uses another eps than the "
                        "contract's default, 1e-5.")


@suite.check("spatial_groupnorm_forward: x, gamma and beta are not modified", group="spatial_groupnorm_forward",
             points=1, tags=FORWARD)
def forward_leaves_arguments(student, ref):
    judge_leaves_arguments(student, LAYER, case(LAYER, 309, (2, 4, 2, 2), G=2))


def _gradient_check(name, gradient, cases):
    @suite.check(f"spatial_groupnorm_backward: {gradient} {name}", group="spatial_groupnorm_backward", points=1,
                 tags=BACKWARD)
    def value(student, ref):
        return judge_gradient(student, ref, LAYER, cases(), gradient)


_gradient_check("with G = 1", "dx", lambda: [case(LAYER, 310, (2, 4, 2, 3), G=1)])
_gradient_check("with G = C", "dx", lambda: [case(LAYER, 311, (2, 4, 2, 3), G=4)])
_gradient_check("with G = C", "dgamma", lambda: [case(LAYER, 311, (2, 4, 2, 3), G=4)])
# The second input judges the backward pass when the forward pass gives no usable output on the first.
_gradient_check("for a group whose values are all equal", "dx",
                lambda: [constant(case(LAYER, 312, (2, 6, 2, 2), G=3), (0, slice(4, 6)),
                                  words="whose first example has channels 5 and 6 (group 3) 1.5 everywhere"),
                         case(LAYER, 313, (2, 6, 2, 2), G=3)])


@suite.check("spatial_groupnorm_backward: dout is not modified", group="spatial_groupnorm_backward", points=1,
             tags=BACKWARD)
def backward_leaves_dout(student, ref):
    judge_leaves_dout(student, LAYER, case(LAYER, 314, (2, 4, 2, 2), G=2))
