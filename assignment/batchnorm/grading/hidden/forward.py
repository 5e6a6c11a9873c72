"""Hidden checks of batchnorm_forward.

Each output (out, running_mean, running_var) is judged by checks of its own, so one
wrong output costs its share. Every check passes eps, momentum and the running
averages explicitly, except the three checks of their defaults, which compare the
student's output without them with the student's own output with the contract's
values given: only the default is at stake there, whatever else the forward does.
"""
import numpy as np

from autograder.kit.compare import (
    MISSING,
    assert_shape,
    close,
    fail,
    plain_array,
    result_tuple,
)
from autograder.kit.framework import CheckFailed, StudentError, Suite, calling

from .. import ASSIGNMENT
from ..public.inputs import (
    FORWARD,
    OUTPUTS,
    RUNNING,
    STATISTIC,
    batch,
    bn_param,
    call_forward,
    expect_forward,
    judge_forward,
    judge_output,
    real_answer,
    rng,
    stored_array,
)

suite = Suite(ASSIGNMENT, hidden=True)


def _check(name, points):
    return suite.check(f"batchnorm_forward: {name}", group="batchnorm_forward", points=points, tags=FORWARD)


@_check("test mode normalizes with the running averages", 1.5)
def forward_test_mode(student, ref):
    x, gamma, beta = batch(210, 7, 4, mean=2.0)
    running = {"running_mean": rng(211).normal(2.0, 1.0, 4), "running_var": rng(212).uniform(0.5, 3.0, 4)}
    judge_forward(student, ref, x, gamma, beta, bn_param("test", 4, **running), "out",
                  "in test mode with given running averages")
    judge_forward(student, ref, x, gamma, beta, bn_param("test", 4, eps=0.05, **running), "out",
                  "in test mode with given running averages and eps=0.05")


@_check("given eps is honoured in train mode", 1)
def forward_given_eps(student, ref):
    x, gamma, beta = batch(231, 9, 4, scale=0.1)
    judge_forward(student, ref, x, gamma, beta, bn_param("train", 4, eps=0.05), "out",
                  "in train mode with eps=0.05")


def _edge_case(name, seed, N, D, tried, change=None, **batch_options):
    @_check(name, 1)
    def edge(student, ref):
        x, gamma, beta = batch(seed, N, D, **batch_options)
        if change:
            x = change(x)
        judge_forward(student, ref, x, gamma, beta, bn_param("train", D), "out", tried)


def _constant_second_feature(x):
    x[:, 1] = 2.5
    return x


_edge_case("a constant feature (variance 0)", 260, 8, 4,
           "in train mode for x of shape (8, 4) whose second feature is constant", change=_constant_second_feature)
_edge_case("features of tiny variance (eps matters)", 270, 12, 3,
           "in train mode for features with standard deviation around 1e-4 (variance below eps)", scale=1e-4)
_edge_case("a batch of one example (N = 1)", 280, 1, 5, "in train mode for x of shape (1, 5)")
_edge_case("large offsets (features around 1e4)", 290, 32, 4,
           "in train mode for x of shape (32, 4) with features around 1e4", change=lambda x: x + 1e4)


def _running_checks(key):
    @_check(f"{key} over several train steps with momentum 0.3", 1)
    def several_steps(student, ref):
        """Four steps from given running averages, each starting from the right
        running averages of the step before, so that each step is judged on its own."""
        D = 3
        param = bn_param("train", D, momentum=0.3, running_mean=rng(220).normal(size=D),
                         running_var=rng(221).uniform(0.5, 2, D))
        for step in range(4):
            x, gamma, beta = batch(222 + step, 10, D, mean=-1.0, scale=2.0)
            expected = expect_forward(ref, x, gamma, beta, param)
            got, _, after = call_forward(student, x, gamma, beta, param)
            judge_output(got, expected, key, x, param, after,
                         f"after train step {step + 1} of 4, starting from given running averages")
            param = {**param, **{k: np.asarray(expected[k].value) for k in RUNNING}}

    @_check(f"test mode leaves {key} as it was and stores it", 0.5)
    def test_keeps(student, ref):
        x, gamma, beta = batch(300, 5, 3)
        param = bn_param("test", 3, running_mean=np.array([0.5, -1.0, 2.0]), running_var=np.array([1.0, 4.0, 0.25]))
        judge_forward(student, ref, x, gamma, beta, param, key, "after a test-mode call (it must not change)")


for _key in RUNNING:
    _running_checks(_key)


def _same(student, x, gamma, beta, given, left_out, context):
    """One call of the student's forward with a bn_param that spells a default out
    (``given``) and one that leaves it out: ((outputs, bn_param after) of each). The
    forward must give a real out (in train mode: a test-mode slip, sqrt(running_var)
    without eps say, is not at stake here), the same one twice for the same input; the
    call that leaves the default out says so when it raises."""
    first, _, first_after = call_forward(student, x, gamma, beta, given)
    again, _, _ = call_forward(student, x, gamma, beta, given)
    proof = first if given["mode"] == "train" else call_forward(student, x, gamma, beta, {**given, "mode": "train"})[0]
    real_answer(student, proof, x, gamma, beta)
    if not all(_agree(first[k], again[k]) for k in OUTPUTS):
        raise CheckFailed("batchnorm_forward gave two different results for the same input; the forward must be "
                          "a function of its arguments alone.", cause="forward not a function")
    with calling(context):
        without, _, without_after = call_forward(student, x, gamma, beta, left_out)
    return (first, first_after), (without, without_after)


def _agree(a, b):
    if a is MISSING or b is MISSING:
        return a is b
    return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and close(a, b, rtol=0, atol=0, equal_nan=True)


@_check("eps defaults to 1e-5", 1)
def forward_default_eps(student, ref):
    x, gamma, beta = batch(230, 9, 4, scale=3e-3)  # variances near eps: its value matters
    start = {"mode": "train", "momentum": 0.9, "running_mean": np.full(4, 0.5), "running_var": np.full(4, 2.0)}
    expected = expect_forward(ref, x, gamma, beta, start)["out"]
    (given, _), (without, _) = _same(student, x, gamma, beta, {**start, "eps": 1e-5}, start,
                                     "in train mode with no eps in bn_param (the contract's default is 1e-5)")
    out = plain_array(without["out"], "out of batchnorm_forward", shape=x.shape)
    if not close(out, given["out"]):
        difference = np.abs(out - given["out"]).max()
        _default_differs(f"out of batchnorm_forward in train mode with eps left out of bn_param differs from your "
                         f"output with eps=1e-5 given (largest difference {difference:.3g}, on features of variance "
                         "near 1e-5).", expected, "bn-default-eps")


@_check("momentum defaults to 0.9", 1)
def forward_default_momentum(student, ref):
    x, gamma, beta = batch(232, 9, 4)
    start = {"mode": "train", "eps": 1e-5, "running_mean": np.full(4, 0.5), "running_var": np.full(4, 2.0)}
    expected = expect_forward(ref, x, gamma, beta, start)["running_mean"]
    (_, given), (_, without) = _same(student, x, gamma, beta, {**start, "momentum": 0.9}, start,
                                     "in train mode with no momentum in bn_param (the contract's default is 0.9)")
    for key in RUNNING:
        if not close(stored_array(without, key, 4), stored_array(given, key, 4)):
            _default_differs(f"bn_param[{key!r}] after a train step with momentum left out of bn_param differs "
                             "from your result with momentum=0.9 given.", expected, "bn-default-momentum")


def _default_differs(sentence, expected, mistake_id):
    """Fail, naming the catalogued mistake of a wrong default: recognised by what the
    student's own outputs show, whatever the value (the catalogue's entry, whose
    answers ``expected`` holds, is one such value)."""
    alternate = expected.alternate(mistake_id)
    if alternate is None:
        raise CheckFailed(f"{sentence} Use the contract's default when bn_param leaves it out.")
    fail(sentence, mistake_id, (alternate.id, alternate.sentence))


@_check("running averages start at zeros when bn_param has none", 1)
def forward_default_running(student, ref):
    """A train step and a test-mode call with no running averages in bn_param must
    give what the same forward gives with zeros given."""
    D = 3
    x, gamma, beta = batch(235, 6, D)
    zeros = {"running_mean": np.zeros(D), "running_var": np.zeros(D)}
    for mode in ("train", "test"):
        context = f"in {mode} mode with no running_mean or running_var in bn_param (the contract starts them at zeros)"
        start = {"mode": mode, "eps": 1e-5, "momentum": 0.9}
        expected = expect_forward(ref, x, gamma, beta, start)
        (given, given_after), (without, without_after) = _same(student, x, gamma, beta, {**start, **zeros}, start,
                                                               context)
        if mode == "test" and not _agree(without["out"], given["out"]):
            raise CheckFailed(f"out of batchnorm_forward {context} differs from your output with zeros given; a "
                              "bn_param without running averages must work as if they were zeros.")
        for key in RUNNING:
            want = stored_array(given_after, key, D)
            call = [(without[other], expected[other]) for other in OUTPUTS if other != key]
            value = stored_array(without_after, key, D, expected[key], call)
            if close(value, want):
                continue
            statistic = x.mean(axis=0) if key == "running_mean" else x.var(axis=0)
            started = (" Your forward starts it from the batch's own statistic instead." if mode == "train" and
                       close(value, statistic) else "")
            raise CheckFailed(f"bn_param[{key!r}] after a {mode}-mode call with no running averages in bn_param "
                              f"differs from your result with zeros given: the running {STATISTIC[key]} must "
                              f"start at zeros when bn_param has none.{started}")


@_check("out has shape (N, D)", 0.5)
def forward_out_shape(student, ref):
    _judge_shape(student, ref, "out")


def _running_shape(key):
    @_check(f"{key} has shape (D,)", 0.5)
    def shape(student, ref):
        _judge_shape(student, ref, key)


for _key in RUNNING:
    _running_shape(_key)


def _judge_shape(student, ref, name):
    """The shape of one output, from a call whose out is a real answer."""
    x, gamma, beta = batch(255, 7, 3)
    param = bn_param("train", 3)
    expected = expect_forward(ref, x, gamma, beta, param)
    got, _, after = call_forward(student, x, gamma, beta, param)
    call = [(got[other], expected[other]) for other in OUTPUTS if other != name]
    what = "out of batchnorm_forward" if name == "out" else f"bn_param[{name!r}]"
    real_answer(student, got, x, gamma, beta)
    if name != "out" and got[name] is MISSING:
        stored_array(after, name, 3, expected[name], call)
    assert_shape(got[name], expected[name], what=what, function="batchnorm_forward", call=call)


@_check("an unknown mode raises ValueError", 1)
def forward_bad_mode(student, ref):
    x, gamma, beta = batch(240, 4, 3)
    # raising is not all it does
    real_answer(student, call_forward(student, x, gamma, beta, bn_param("train", 3))[0], x, gamma, beta)
    try:
        student.call("batchnorm_forward", x, gamma, beta, bn_param("evaluate", 3), keep=[1])
    except StudentError as err:
        if "ValueError" in err.raised:  # ValueError itself or a subclass of it
            return
        raise CheckFailed(f"batchnorm_forward with mode 'evaluate' should raise ValueError; instead: {err}") \
            from None
    raise CheckFailed("batchnorm_forward with mode 'evaluate' returned normally; an unknown mode should "
                      "raise ValueError.")


@_check("arguments are not modified in place", 1)
def forward_leaves_arguments(student, ref):
    """Checked on calls that return a real answer: an out of numbers that is not
    zeros, one number, or x handed back (in whatever layout)."""
    x, gamma, beta = batch(250, 6, 3)
    for mode in ("train", "test"):
        param = bn_param(mode, 3, running_mean=np.full(3, 0.1), running_var=np.full(3, 1.5))
        call = student.call("batchnorm_forward", x, gamma, beta, param, keep=[1])
        real_answer(student, {"out": result_tuple(call.value, "batchnorm_forward", 2)[0]}, x, gamma, beta)
        for name, before, now in zip(("x", "gamma", "beta"), (x, gamma, beta), call.args):
            if not (isinstance(now, np.ndarray) and np.array_equal(before, now)):
                raise CheckFailed(f"batchnorm_forward in {mode} mode modified {name} in place; compute new arrays "
                                  "instead (x - mu, not x -= mu).")
