"""Seeded inputs and small helpers shared by the public and the hidden checks."""
import importlib.util
from pathlib import Path

import numpy as np

from .compare import plain_array, result_tuple
from .framework import CheckFailed


def _load_gradient_check():
    """The gradient checkers given to students, from the folder this package sits in
    (loaded by path, so that a student module of the same name cannot stand in)."""
    spec = importlib.util.spec_from_file_location(
        f"{__package__}._gradient_check", Path(__file__).resolve().parent.parent / "gradient_check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gradient_check = _load_gradient_check()

PREPROCESSING = ("zero_centered", "normalized", "data_preprocess")
FORWARD = ("batchnorm_forward",)
BACKWARD = ("batchnorm_forward", "batchnorm_backward")
BACKWARD_ALT = ("batchnorm_forward", "batchnorm_backward_alt")


def rng(seed):
    return np.random.default_rng(seed)


def batch(seed, N, D, mean=0.0, scale=1.0):
    """x of shape (N, D) with per-feature offsets around ``mean``, gamma and beta of shape (D,)."""
    r = rng(seed)
    x = mean + scale * (r.standard_normal((N, D)) * r.uniform(0.5, 3.0, D) + r.uniform(-2, 2, D))
    return x, r.uniform(0.5, 2.0, D), r.standard_normal(D)


def backward_inputs(seed, N, D):
    """x, gamma, beta and an upstream gradient dout, all seeded."""
    x, gamma, beta = batch(seed, N, D)
    return x, gamma, beta, rng(seed + 1).standard_normal((N, D))


def forward(student, x, gamma, beta, bn_param, keep_cache=True):
    """Call the student's forward; returns (out, cache handle or value, bn_param after)."""
    call = student.call("batchnorm_forward", x, gamma, beta, bn_param, keep=[1] if keep_cache else [])
    out, cache = result_tuple(call.value, "batchnorm_forward", 2)
    return plain_array(out, "out of batchnorm_forward", shape=x.shape), cache, call.args[3]


def backward(student, function, dout, cache):
    dx, dgamma, dbeta = result_tuple(student.call(function, dout, cache).value, function, 3)
    N, D = dout.shape
    return (plain_array(dx, f"dx of {function}", shape=(N, D)),
            plain_array(dgamma, f"dgamma of {function}", shape=(D,)),
            plain_array(dbeta, f"dbeta of {function}", shape=(D,)))


def stored_array(bn_param, key, D):
    if not isinstance(bn_param, dict):
        raise CheckFailed(f"after the call, bn_param is a {bn_param!r} instead of a dict with string keys; "
                          "store the running statistics in it as bn_param['running_mean'] and the like.")
    if key not in bn_param:
        raise CheckFailed(f"after the call, bn_param has no {key!r}; store the running statistics "
                          "back into bn_param in both modes.")
    return plain_array(bn_param[key], f"bn_param[{key!r}]", shape=(D,))


def own_gradient_check(student, function, seed, N, D, tolerance=1e-6):
    """Compare ``function``'s gradients with centred differences of the student's own
    forward pass, so a backward pass that is right for a slightly wrong forward
    still passes."""
    x, gamma, beta, dout = backward_inputs(seed, N, D)
    _, cache, _ = forward(student, x, gamma, beta, {"mode": "train"})
    got = backward(student, function, dout, cache)

    def out_of(xx, gg, bb):
        return forward(student, xx, gg, bb, {"mode": "train"}, keep_cache=False)[0]

    numeric = (gradient_check.eval_numerical_gradient_array(lambda v: out_of(v, gamma, beta), x.copy(), dout),
               gradient_check.eval_numerical_gradient_array(lambda v: out_of(x, v, beta), gamma.copy(), dout),
               gradient_check.eval_numerical_gradient_array(lambda v: out_of(x, gamma, v), beta.copy(), dout))
    for name, analytic, approx in zip(("dx", "dgamma", "dbeta"), got, numeric):
        error = gradient_check.rel_error(analytic, approx)
        if not error < tolerance:
            raise CheckFailed(
                f"{name} of {function} disagrees with the numeric gradient of your own batchnorm_forward "
                f"(train mode, x of shape ({N}, {D})): relative error {error:.2e}, expected below "
                f"{tolerance:g}. Rederive the backward step for this quantity through the graph "
                "mu -> xmu -> var -> sqrtvar -> ivar -> xhat -> out.")
