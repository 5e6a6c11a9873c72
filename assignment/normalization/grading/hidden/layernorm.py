"""Hidden checks of layernorm_forward and layernorm_backward."""
from autograder.kit.framework import Suite

from .. import ASSIGNMENT
from ..public.inputs import LAYERNORM, case, constant, tags
from ..public.judging import (
    assert_same_outputs,
    judge_forward,
    judge_forward_shapes,
    judge_gradient,
    judge_leaves_arguments,
    judge_leaves_dout,
)

suite = Suite(ASSIGNMENT, hidden=True)
FORWARD, BACKWARD = tags(LAYERNORM), tags(LAYERNORM, backward=True)


def _forward_value(name, make):
    @suite.check(f"layernorm_forward: {name}", group="layernorm_forward", points=1, tags=FORWARD)
    def value(student, ref):
        judge_forward(student, ref, LAYERNORM, make())


@suite.check("layernorm_forward: out has the shape of x", group="layernorm_forward", points=1, tags=FORWARD)
def forward_shapes(student, ref):
    judge_forward_shapes(student, ref, LAYERNORM, case(LAYERNORM, 100, (5, 4)))


_forward_value("a batch of one example (N = 1)", lambda: case(LAYERNORM, 101, (1, 6)))
_forward_value("an example whose features are all equal (variance 0)",
               lambda: constant(case(LAYERNORM, 102, (4, 5)), 2, words="whose third example has all its features 1.5"))
_forward_value("examples of tiny variance (eps matters)",
               lambda: case(LAYERNORM, 103, (6, 8), scale=1e-4, words="every example with a variance below eps"))
_forward_value("large offsets (values around 1e4)",
               lambda: case(LAYERNORM, 104, (8, 16), mean=1e4, words="values around 1e4"))
_forward_value("a given eps is honoured",
               lambda: case(LAYERNORM, 105, (5, 6), scale=0.1, param={"eps": 0.05}, words="eps = 0.05"))


@suite.check("layernorm_forward: eps defaults to 1e-5", group="layernorm_forward", points=1, tags=FORWARD)
def forward_default_eps(student, ref):
    given = case(LAYERNORM, 106, (6, 5), scale=3e-3, words="variances near 1e-5, with ln_param = {'eps': 1e-5}")
    assert_same_outputs(student, LAYERNORM, given, given.with_param({}, "with ln_param = {}"), ["out"],
                        "when ln_param has no 'eps', your layernorm_forward uses another eps than the contract's "
                        "default, 1e-5.")


@suite.check("layernorm_forward: a 'mode' in ln_param changes nothing", group="layernorm_forward", points=1,
             tags=FORWARD)
def forward_ignores_mode(student, ref):
    plain = case(LAYERNORM, 107, (5, 4), words="with ln_param = {'eps': 1e-5}")
    for mode in ("test", "train"):
        assert_same_outputs(student, LAYERNORM, plain,
                            plain.with_param({"mode": mode, "eps": 1e-5}, f"with ln_param['mode'] = {mode!r}"),
                            ["out"], "layer normalization has no test mode and no running averages: it normalizes "
                                     "every example with its own statistics, in training and at test time alike "
                                     "(a network may pass a 'mode' to every normalization layer).")


@suite.check("layernorm_forward: x, gamma and beta are not modified", group="layernorm_forward", points=1,
             tags=FORWARD)
def forward_leaves_arguments(student, ref):
    judge_leaves_arguments(student, LAYERNORM, case(LAYERNORM, 108, (4, 6)))


def _gradient_check(name, gradient, cases):
    @suite.check(f"layernorm_backward: {gradient} {name}", group="layernorm_backward", points=1, tags=BACKWARD)
    def value(student, ref):
        return judge_gradient(student, ref, LAYERNORM, cases(), gradient)


_gradient_check("on a batch of one example (N = 1)", "dx", lambda: [case(LAYERNORM, 110, (1, 7))])
# The second input judges the backward pass when the forward pass gives no usable output on the first.
_gradient_check("for an example whose features are all equal", "dx",
                lambda: [constant(case(LAYERNORM, 111, (5, 4)), 1, words="whose second example has all its "
                                                                          "features 1.5"),
                         case(LAYERNORM, 112, (3, 4))])
_gradient_check("for an example whose features are all equal", "dgamma",
                lambda: [constant(case(LAYERNORM, 111, (5, 4)), 1, words="whose second example has all its "
                                                                          "features 1.5"),
                         case(LAYERNORM, 112, (3, 4))])
_gradient_check("on a large batch with large offsets", "dx",
                lambda: [case(LAYERNORM, 113, (64, 32), mean=100.0, words="values around 100")])


@suite.check("layernorm_backward: dout is not modified", group="layernorm_backward", points=1, tags=BACKWARD)
def backward_leaves_dout(student, ref):
    judge_leaves_dout(student, LAYERNORM, case(LAYERNORM, 114, (4, 5)))
