"""Hidden checks of batchnorm_forward."""
import numpy as np

from autograder.kit.compare import Expected, assert_close, assert_shape, assert_substantive, assert_true, result_tuple
from autograder.kit.framework import CheckFailed, StudentError, Suite

from .. import ASSIGNMENT
from ..public.inputs import FORWARD, batch, bn_param, forward, forward_answer, rng, stored_array

suite = Suite(ASSIGNMENT, hidden=True)


def _out(result, args):
    return result[0]


def _running(key):
    return lambda result, args: args[3][key]


RUNNING = ("running_mean", "running_var")


def _assert_step(student, ref, x, gamma, beta, param, tried):
    """Compare out and both running statistics of one forward call."""
    expected = {what: ref.expect("batchnorm_forward", x, gamma, beta, dict(param), pick=pick)
                for what, pick in (("out", _out), *((key, _running(key)) for key in RUNNING))}
    out, _, after = forward(student, x, gamma, beta, dict(param))
    assert_close(out, expected["out"], what="out of batchnorm_forward", tried=tried)
    for key in RUNNING:
        assert_close(stored_array(after, key, x.shape[1], expected[key]), expected[key],
                     what=f"bn_param[{key!r}] after the call", tried=tried)
    return after


def _assert_out(student, ref, x, gamma, beta, tried):
    """Compare out of one train-mode call (the running statistics have checks of their own)."""
    param = bn_param("train", x.shape[1])
    expected = ref.expect("batchnorm_forward", x, gamma, beta, dict(param), pick=_out)
    out, _, _ = forward(student, x, gamma, beta, param, expected=expected)
    assert_close(out, expected, what="out of batchnorm_forward", tried=tried)


@suite.check("batchnorm_forward: test mode uses the running averages of several train steps",
             group="batchnorm_forward", points=2, tags=FORWARD)
def forward_test_after_training(student, ref):
    D = 4
    param = bn_param("train", D)
    for step in range(5):
        x, gamma, beta = batch(200 + step, 16, D, mean=2.0)
        _, _, param = forward(student, x, gamma, beta, param, keep_cache=False)
    running = {k: stored_array(param, k, D) for k in RUNNING}
    x, gamma, beta = batch(210, 7, D, mean=2.0)
    _assert_step(student, ref, x, gamma, beta, bn_param("test", D, **running),
                 "in test mode with the running statistics your code stored after 5 train steps")


@suite.check("batchnorm_forward: running averages over several train steps", group="batchnorm_forward",
             points=2, tags=FORWARD)
def forward_running_several(student, ref):
    D = 3
    param = bn_param("train", D, running_mean=rng(220).normal(size=D), running_var=rng(221).uniform(0.5, 2, D))
    expected = dict(param)
    for step in range(4):
        x, gamma, beta = batch(222 + step, 10, D, mean=-1.0, scale=2.0)
        want = {key: ref.expect("batchnorm_forward", x, gamma, beta, dict(expected), pick=_running(key))
                for key in RUNNING}
        _, _, param = forward(student, x, gamma, beta, param, keep_cache=False)
        for key in RUNNING:
            assert_close(stored_array(param, key, D, want[key]), want[key], what=f"bn_param[{key!r}]",
                         tried=f"after train step {step + 1} of 4, starting from given running statistics")
            expected[key] = want[key].value


@suite.check("batchnorm_forward: eps and momentum default to 1e-5 and 0.9", group="batchnorm_forward",
             points=2, tags=FORWARD)
def forward_defaults(student, ref):
    """Judged against the student's own forward with the defaults given explicitly,
    so that only the defaults are at stake here."""
    x, gamma, beta = batch(230, 9, 4, scale=3e-3)  # variances near eps: its value matters
    start = {"mode": "train", "running_mean": np.full(4, 0.5), "running_var": np.full(4, 2.0)}
    expected = {what: ref.expect("batchnorm_forward", x, gamma, beta, dict(start), pick=pick)
                for what, pick in (("out", _out), *((key, _running(key)) for key in RUNNING))}
    given, _, given_after = forward(student, x, gamma, beta, {**start, "eps": 1e-5, "momentum": 0.9},
                                    keep_cache=False)
    left_out, _, after = forward(student, x, gamma, beta, dict(start), keep_cache=False)
    tried = "in train mode with eps and momentum left out of bn_param, features of variance near 1e-5"
    assert_close(left_out, Expected(given, expected["out"].alternates, "batchnorm_forward"),
                 what="out of batchnorm_forward", tried=tried + ", compared with your output for eps=1e-5 given")
    for key in RUNNING:
        assert_close(stored_array(after, key, 4, expected[key]),
                     Expected(stored_array(given_after, key, 4), expected[key].alternates, "batchnorm_forward"),
                     what=f"bn_param[{key!r}]", tried=tried + ", compared with your result for momentum=0.9 given")


@suite.check("batchnorm_forward: given eps and momentum are honoured", group="batchnorm_forward",
             points=2, tags=FORWARD)
def forward_given_parameters(student, ref):
    x, gamma, beta = batch(231, 9, 4, scale=0.1)
    _assert_step(student, ref, x, gamma, beta,
                 {"mode": "train", "eps": 0.05, "momentum": 0.3, "running_mean": np.full(4, -1.0),
                  "running_var": np.full(4, 3.0)}, "in train mode with eps=0.05 and momentum=0.3")
    _assert_step(student, ref, x, gamma, beta,
                 {"mode": "test", "eps": 0.05, "running_mean": np.full(4, 0.2), "running_var": np.full(4, 0.4)},
                 "in test mode with eps=0.05")


@suite.check("batchnorm_forward: an unknown mode raises ValueError", group="batchnorm_forward", points=1,
             tags=FORWARD)
def forward_bad_mode(student, ref):
    x, gamma, beta = batch(240, 4, 3)
    forward(student, x, gamma, beta, bn_param("train", 3), keep_cache=False)  # raising is not all it does
    try:
        student.call("batchnorm_forward", x, gamma, beta, bn_param("evaluate", 3), keep=[1])
    except StudentError as err:
        if "ValueError" in err.raised:  # ValueError itself or a subclass of it
            return
        raise CheckFailed(f"batchnorm_forward with mode 'evaluate' should raise ValueError; instead: {err}") \
            from None
    raise CheckFailed("batchnorm_forward with mode 'evaluate' returned normally; an unknown mode should "
                      "raise ValueError.")


@suite.check("batchnorm_forward: arguments are not modified in place", group="batchnorm_forward",
             points=1, tags=FORWARD)
def forward_leaves_arguments(student, ref):
    x, gamma, beta = batch(250, 6, 3)
    for mode in ("train", "test"):
        call = student.call("batchnorm_forward", x, gamma, beta,
                            bn_param(mode, 3, running_mean=np.full(3, 0.1), running_var=np.full(3, 1.5)), keep=[1])
        forward_answer(call.value, x)  # a real answer, not only untouched arguments
        for name, before, after in zip(("x", "gamma", "beta"), (x, gamma, beta), call.args):
            assert_true(isinstance(after, np.ndarray) and np.array_equal(before, after),
                        f"batchnorm_forward in {mode} mode modified {name} in place; compute new arrays "
                        "instead (x - mu, not x -= mu).")


@suite.check("batchnorm_forward: out has shape (N, D), the running averages (D,)", group="batchnorm_forward",
             points=1, tags=FORWARD)
def forward_shapes(student, ref):
    x, gamma, beta = batch(255, 7, 3)
    expected = {what: ref.expect("batchnorm_forward", x, gamma, beta, bn_param("train", 3), pick=pick)
                for what, pick in (("out", _out), *((key, _running(key)) for key in RUNNING))}
    call = student.call("batchnorm_forward", x, gamma, beta, bn_param("train", 3), keep=[1])
    out = assert_shape(result_tuple(call.value, "batchnorm_forward", 2)[0], expected["out"],
                       what="out of batchnorm_forward", function="batchnorm_forward")
    assert_substantive(out, "out of batchnorm_forward", x)
    after = call.args[3]
    for key in RUNNING:
        value = after.get(key) if isinstance(after, dict) else None
        if value is None:
            stored_array(after, key, 3, expected[key])
        assert_shape(value, expected[key], what=f"bn_param[{key!r}]", function="batchnorm_forward")


@suite.check("batchnorm_forward: a constant feature (variance 0)", group="batchnorm_forward", points=1,
             tags=FORWARD)
def forward_constant_feature(student, ref):
    x, gamma, beta = batch(260, 8, 4)
    x[:, 1] = 2.5
    _assert_out(student, ref, x, gamma, beta,
                 "in train mode for x of shape (8, 4) whose second feature is constant")


@suite.check("batchnorm_forward: features of tiny variance (eps matters)", group="batchnorm_forward",
             points=1, tags=FORWARD)
def forward_tiny_variance(student, ref):
    x, gamma, beta = batch(270, 12, 3, scale=1e-4)
    _assert_out(student, ref, x, gamma, beta,
                 "in train mode for features with standard deviation around 1e-4 (variance below eps)")


@suite.check("batchnorm_forward: a batch of one example (N = 1)", group="batchnorm_forward", points=1,
             tags=FORWARD)
def forward_single_example(student, ref):
    x, gamma, beta = batch(280, 1, 5)
    _assert_out(student, ref, x, gamma, beta, "in train mode for x of shape (1, 5)")


@suite.check("batchnorm_forward: large offsets (features around 1e4)", group="batchnorm_forward", points=1,
             tags=FORWARD)
def forward_large_offsets(student, ref):
    x, gamma, beta = batch(290, 32, 4)
    x = x + 1e4
    _assert_out(student, ref, x, gamma, beta,
                 "in train mode for x of shape (32, 4) with features around 1e4")


@suite.check("batchnorm_forward: test mode keeps the running averages and stores them",
             group="batchnorm_forward", points=1, tags=FORWARD)
def forward_test_keeps_running(student, ref):
    x, gamma, beta = batch(300, 5, 3)
    running_mean, running_var = np.array([0.5, -1.0, 2.0]), np.array([1.0, 4.0, 0.25])
    _, _, after = forward(student, x, gamma, beta,
                          bn_param("test", 3, running_mean=running_mean, running_var=running_var), keep_cache=False)
    assert_close(stored_array(after, "running_mean", 3), running_mean, what="bn_param['running_mean']",
                 tried="after a test-mode call (it must not change)")
    assert_close(stored_array(after, "running_var", 3), running_var, what="bn_param['running_var']",
                 tried="after a test-mode call (it must not change)")
    no_statistics = {"mode": "test", "eps": 1e-5}  # the one check of their default: zeros
    expected = ref.expect("batchnorm_forward", x, gamma, beta, dict(no_statistics),
                          pick=lambda result, args: args[3]["running_mean"])
    _, _, fresh = forward(student, x, gamma, beta, no_statistics, keep_cache=False)
    assert_close(stored_array(fresh, "running_mean", 3, expected), expected, what="bn_param['running_mean']",
                 tried="after a test-mode call on a bn_param without running statistics (default zeros)")
