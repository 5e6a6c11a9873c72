"""Weight initializers for a fully-connected layer of shape (fan_in, fan_out).

Every initializer returns a new float64 array of shape (fan_in, fan_out). The random
ones draw all of their randomness from ``rng``, a ``numpy.random.Generator``: two
generators made with the same seed give identical weights. When ``rng`` is None a
fresh ``np.random.default_rng()`` is used.
"""
import numpy as np


def zeros_init(fan_in, fan_out):
    """All-zero weights: every unit computes the same thing (the symmetry problem).

    Parameters
    ----------
    fan_in, fan_out : int
        Number of inputs and outputs of the layer.

    Returns
    -------
    numpy.ndarray, float64, shape (fan_in, fan_out)
    """
    return np.zeros((fan_in, fan_out), dtype=np.float64)


def random_init(fan_in, fan_out, std, rng=None):
    """Gaussian weights with mean 0 and a fixed standard deviation ``std``.

    Parameters
    ----------
    fan_in, fan_out : int
    std : float
        Standard deviation of every weight (the lecture tries 1e-2 and 1).
    rng : numpy.random.Generator, optional
        Source of all randomness; None means ``np.random.default_rng()``.

    Returns
    -------
    numpy.ndarray, float64, shape (fan_in, fan_out)
        Independent draws from N(0, std**2).
    """
    if rng is None:
        rng = np.random.default_rng()
    return std * rng.standard_normal((fan_in, fan_out))


def xavier_init(fan_in, fan_out, rng=None):
    """Xavier (Glorot) initialization for tanh layers: variance 1 / fan_in.

    Keeps the variance of a layer's outputs equal to that of its inputs, so the
    activations of a deep tanh network neither vanish nor saturate.

    Parameters
    ----------
    fan_in, fan_out : int
    rng : numpy.random.Generator, optional
        Source of all randomness; None means ``np.random.default_rng()``.

    Returns
    -------
    numpy.ndarray, float64, shape (fan_in, fan_out)
        ``randn(fan_in, fan_out) / sqrt(fan_in)``: draws from N(0, 1/fan_in).
    """
    if rng is None:
        rng = np.random.default_rng()
    return rng.standard_normal((fan_in, fan_out)) / np.sqrt(fan_in)


def he_init(fan_in, fan_out, rng=None):
    """He (Kaiming) initialization for ReLU layers: variance 2 / fan_in.

    ReLU zeroes half of its inputs, halving the variance; the factor 2 makes up
    for it.

    Parameters
    ----------
    fan_in, fan_out : int
    rng : numpy.random.Generator, optional
        Source of all randomness; None means ``np.random.default_rng()``.

    Returns
    -------
    numpy.ndarray, float64, shape (fan_in, fan_out)
        ``randn(fan_in, fan_out) / sqrt(fan_in / 2)``: draws from N(0, 2/fan_in).
    """
    if rng is None:
        rng = np.random.default_rng()
    return rng.standard_normal((fan_in, fan_out)) / np.sqrt(fan_in / 2)
