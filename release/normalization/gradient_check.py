"""Numeric gradient checkers: compare an analytic gradient with finite differences.

Centred differences ``(f(x + h) - f(x - h)) / (2h)`` have an error of order h**2;
with float64 and h = 1e-5 a correct analytic gradient agrees to a relative error of
about 1e-8 or better, while a wrong one is typically off by 1e-2 or more.
"""
import numpy as np


def rel_error(x, y):
    """Largest relative error between two arrays, ``max |x - y| / max(1e-8, |x| + |y|)``."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))


def eval_numerical_gradient(f, x, verbose=False, h=1e-5):
    """Numeric gradient of a scalar function ``f`` at ``x`` by centred differences.

    Parameters
    ----------
    f : callable
        Takes an array shaped like x and returns a float.
    x : numpy.ndarray, float64
        Point at which to differentiate; it is perturbed in place and restored.
    verbose : bool
        Print every partial derivative as it is computed.
    h : float
        Step size.

    Returns
    -------
    numpy.ndarray, same shape as x
    """
    grad = np.zeros_like(x, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        ix = it.multi_index
        old = x[ix]
        x[ix] = old + h
        fxph = f(x)
        x[ix] = old - h
        fxmh = f(x)
        x[ix] = old
        grad[ix] = (fxph - fxmh) / (2 * h)
        if verbose:
            print(ix, grad[ix])
        it.iternext()
    return grad


def eval_numerical_gradient_array(f, x, df, h=1e-5):
    """Numeric gradient of ``sum(f(x) * df)`` with respect to x, for array-valued f.

    This is what a backward pass computes when the upstream gradient is ``df``.

    Parameters
    ----------
    f : callable
        Takes an array shaped like x and returns an array shaped like df.
    x : numpy.ndarray, float64
        It is perturbed in place and restored.
    df : numpy.ndarray
        Upstream gradient.
    h : float
        Step size.

    Returns
    -------
    numpy.ndarray, same shape as x
    """
    grad = np.zeros_like(x, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        ix = it.multi_index
        old = x[ix]
        x[ix] = old + h
        pos = np.array(f(x), dtype=np.float64)
        x[ix] = old - h
        neg = np.array(f(x), dtype=np.float64)
        x[ix] = old
        grad[ix] = np.sum((pos - neg) * df) / (2 * h)
        it.iternext()
    return grad


def directional_gradient_check(f, x, df, analytic_dx, rng, h=1e-5):
    """Check a backward pass along one random direction, with two forward calls.

    For ``L(x) = sum(f(x) * df)`` the analytic gradient ``analytic_dx`` must satisfy
    ``<analytic_dx, u> = dL/dt (x + t u)`` at t = 0 for every direction u. This
    compares the two sides for a random unit direction u, using a centred
    difference on the right: the fast mode of torch.autograd.gradcheck and
    jax.test_util.check_grads. A wrong gradient passes only if its error happens
    to be orthogonal to u, which has probability 0 for a continuous random u.

    Parameters
    ----------
    f : callable
        Takes an array shaped like x and returns an array shaped like df.
    x : numpy.ndarray, float64
        Not modified.
    df : numpy.ndarray
        Upstream gradient.
    analytic_dx : numpy.ndarray, shape of x
        The backward pass's gradient of L with respect to x.
    rng : numpy.random.Generator
        Draws the direction.
    h : float
        Step size along u.

    Returns
    -------
    float
        Relative error between the two directional derivatives.
    """
    u = rng.standard_normal(x.shape)
    u /= np.linalg.norm(u)
    pos = np.sum(np.asarray(f(x + h * u), dtype=np.float64) * df)
    neg = np.sum(np.asarray(f(x - h * u), dtype=np.float64) * df)
    numeric = (pos - neg) / (2 * h)
    analytic = float(np.sum(np.asarray(analytic_dx, dtype=np.float64) * u))
    return rel_error(analytic, numeric)
