"""Hidden checks of spatial_batchnorm_forward and spatial_batchnorm_backward."""
import numpy as np

from autograder.kit.framework import CheckFailed, StudentError, Suite

from .. import ASSIGNMENT
from ..public.inputs import SPATIAL_BATCHNORM, case, constant, param_of, tags
from ..public.judging import (
    assert_same_outputs,
    assert_real_forward,
    call_forward,
    describe,
    expect_forward,
    judge,
    judge_forward,
    judge_forward_shapes,
    judge_gradient,
    judge_leaves_arguments,
    judge_leaves_dout,
)

suite = Suite(ASSIGNMENT, hidden=True)
LAYER = SPATIAL_BATCHNORM
FORWARD, BACKWARD = tags(LAYER), tags(LAYER, backward=True)
RUNNING = LAYER.stored


def _out_check(name, make, points=1):
    @suite.check(f"spatial_batchnorm_forward: {name}", group="spatial_batchnorm_forward", points=points,
                 tags=FORWARD)
    def value(student, ref):
        for each in make():
            judge_forward(student, ref, LAYER, each)


@suite.check("spatial_batchnorm_forward: out has the shape of x, the running averages (C,)",
             group="spatial_batchnorm_forward", points=1, tags=FORWARD)
def forward_shapes(student, ref):
    judge_forward_shapes(student, ref, LAYER, case(LAYER, 200, (3, 4, 2, 3)))


def _test_mode(seed, shape, **given):
    """A test-mode input with running averages of its own (not zeros), and ``given`` in bn_param."""
    r = np.random.default_rng(seed + 7)
    C = shape[1]
    running = {"running_mean": r.uniform(-2, 2, C), "running_var": r.uniform(0.5, 4, C)}
    return case(LAYER, seed, shape, param=param_of(LAYER, C, "test", **{**running, **given}),
                words="in test mode with given running averages" + "".join(f", {k} = {v}" for k, v in given.items()))


_out_check("test mode normalizes with the running averages", lambda: [_test_mode(201, (5, 3, 3, 2))], points=2)
_out_check("a given eps is honoured, in train and test mode",
           lambda: [case(LAYER, 202, (4, 3, 2, 2), scale=0.1, param=param_of(LAYER, 3, eps=0.05), words="eps = 0.05"),
                    _test_mode(203, (4, 3, 2, 2), eps=0.05)])
_out_check("a channel whose values are all equal (variance 0)",
           lambda: [constant(case(LAYER, 204, (4, 3, 2, 3)), (slice(None), 1),
                             words="whose second channel is 1.5 everywhere")])
_out_check("channels of tiny variance (eps matters)",
           lambda: [case(LAYER, 205, (4, 3, 3, 3), scale=1e-4, words="every channel with a variance below eps")])
_out_check("large offsets (values around 1e4)",
           lambda: [case(LAYER, 206, (8, 4, 4, 4), mean=1e4, words="values around 1e4")])
_out_check("a batch of one example (N = 1): statistics over its positions",
           lambda: [case(LAYER, 207, (1, 3, 4, 5))])
_out_check("H = W = 1: batch normalization of an (N, C) batch", lambda: [case(LAYER, 208, (10, 6, 1, 1))])


def _running_over_steps(key, seed):
    @suite.check(f"spatial_batchnorm_forward: {key} over four training steps with momentum 0.3",
                 group="spatial_batchnorm_forward", points=1, tags=FORWARD)
    def running(student, ref):
        """The student's bn_param feeds the student's next step, the reference's the reference's."""
        r = np.random.default_rng(seed)
        theirs = ours = {"running_mean": r.normal(size=3), "running_var": r.uniform(0.5, 2, 3)}
        for step in range(4):
            each = case(LAYER, seed + step, (6, 3, 2, 2), mean=-1.0, scale=2.0,
                        words=f"after training step {step + 1} of 4 with momentum 0.3, from given running averages")
            expected = expect_forward(ref, LAYER, each.with_param(param_of(LAYER, 3, momentum=0.3, **ours)))
            got, _, _ = call_forward(student, LAYER, each.with_param(param_of(LAYER, 3, momentum=0.3, **theirs)))
            judge(got, expected, key, LAYER.forward, what=describe(LAYER, key), tried=each.tried)
            ours = {k: expected[k].value for k in RUNNING}
            theirs = {k: got[k] for k in RUNNING}


_running_over_steps("running_mean", 210)
_running_over_steps("running_var", 220)


@suite.check("spatial_batchnorm_forward: test mode leaves the running averages as they were",
             group="spatial_batchnorm_forward", points=1, tags=FORWARD)
def forward_test_keeps_running(student, ref):
    each = _test_mode(230, (3, 3, 2, 2))
    expected = expect_forward(ref, LAYER, each)
    got, _, _ = call_forward(student, LAYER, each)
    assert_real_forward(student, LAYER, each, got["out"])
    for key in RUNNING:
        judge(got, expected, key, LAYER.forward, what=describe(LAYER, key), tried=each.tried + " (it must not change)")


def _default_check(name, leave_out, outputs, differs, **given):
    """A default judged against the student's own forward pass with the contract's
    value given: only the default is at stake."""
    @suite.check(f"spatial_batchnorm_forward: {name}", group="spatial_batchnorm_forward", points=1, tags=FORWARD)
    def default(student, ref):
        # Variances near eps and running averages far from the batch's statistics: every default matters.
        param = param_of(LAYER, 3, **{"running_mean": np.full(3, 0.5), "running_var": np.full(3, 2.0), **given})
        spelled = case(LAYER, 240, (4, 3, 2, 2), scale=3e-3, param=param,
                       words=f"in train mode with {' and '.join(leave_out)} given as the contract's default")
        left_out = {k: v for k, v in param.items() if k not in leave_out}
        assert_same_outputs(student, LAYER, spelled,
                            spelled.with_param(left_out, f"with {' and '.join(leave_out)} left out of bn_param"),
                            outputs, differs)


_default_check("eps defaults to 1e-5", ("eps",), ["out"],
               "when bn_param has no 'eps', your spatial_batchnorm_forward uses another eps than the contract's "
               "default, 1e-5.")
_default_check("momentum defaults to 0.9", ("momentum",), RUNNING,
               "when bn_param has no 'momentum', your spatial_batchnorm_forward uses another momentum than the "
               "contract's default, 0.9.")
_default_check("the running averages default to zeros", RUNNING, RUNNING,
               "when bn_param has no running averages, they must start at zeros of shape (C,), so that after one "
               "training step they are (1 - momentum) times the batch statistics.",
               running_mean=np.zeros(3), running_var=np.zeros(3))


@suite.check("spatial_batchnorm_forward: an unknown mode raises ValueError", group="spatial_batchnorm_forward",
             points=1, tags=FORWARD)
def forward_bad_mode(student, ref):
    each = case(LAYER, 250, (2, 3, 2, 2))
    got, _, _ = call_forward(student, LAYER, each)  # raising is not all it does
    assert_real_forward(student, LAYER, each, got["out"])
    try:
        student.call(LAYER.forward, *each.args(mode="evaluate"), keep=[1])
    except StudentError as err:
        if "ValueError" in err.raised:  # ValueError itself or a subclass of it
            return
        raise CheckFailed(f"spatial_batchnorm_forward with mode 'evaluate' should raise ValueError; instead: {err}") \
            from None
    raise CheckFailed("spatial_batchnorm_forward with mode 'evaluate' returned normally; an unknown mode should "
                      "raise ValueError.")


@suite.check("spatial_batchnorm_forward: x, gamma and beta are not modified, in either mode",
             group="spatial_batchnorm_forward", points=1, tags=FORWARD)
def forward_leaves_arguments(student, ref):
    judge_leaves_arguments(student, LAYER, case(LAYER, 260, (3, 2, 2, 3), words="in train mode"))
    judge_leaves_arguments(student, LAYER, _test_mode(261, (3, 2, 2, 3)))


def _gradient_check(name, gradient, cases):
    @suite.check(f"spatial_batchnorm_backward: {gradient} {name}", group="spatial_batchnorm_backward", points=1,
                 tags=BACKWARD)
    def value(student, ref):
        return judge_gradient(student, ref, LAYER, cases(), gradient)


def _constant_channel():
    # The second input judges the backward pass when the forward pass gives no usable output on the first.
    return [constant(case(LAYER, 270, (3, 4, 2, 2)), (slice(None), 2), words="whose third channel is 1.5 everywhere"),
            case(LAYER, 271, (2, 4, 2, 2))]


_gradient_check("with H = W = 1 (batch normalization of an (N, C) batch)", "dx",
                lambda: [case(LAYER, 272, (6, 5, 1, 1))])
_gradient_check("for a channel whose values are all equal", "dx", _constant_channel)
_gradient_check("for a channel whose values are all equal", "dgamma", _constant_channel)
_gradient_check("on a larger batch", "dx", lambda: [case(LAYER, 273, (8, 4, 4, 4))])


@suite.check("spatial_batchnorm_backward: dout is not modified", group="spatial_batchnorm_backward", points=1,
             tags=BACKWARD)
def backward_leaves_dout(student, ref):
    judge_leaves_dout(student, LAYER, case(LAYER, 274, (2, 3, 2, 2)))
