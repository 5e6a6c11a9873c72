"""Correct initializers written differently: rng.normal with a scale, another order,
rng as a keyword-only argument."""
import numpy as np


def zeros_init(fan_in, fan_out):
    return np.zeros(fan_in * fan_out).reshape(fan_in, fan_out)


def random_init(fan_in, fan_out, std, rng=None):
    rng = np.random.default_rng() if rng is None else rng
    return rng.normal(0.0, std, size=(fan_in, fan_out))


def xavier_init(fan_in, fan_out, *, rng=None):
    rng = rng or np.random.default_rng()
    return rng.normal(scale=np.sqrt(1.0 / fan_in), size=(fan_out, fan_in)).T.copy()


def he_init(fan_in, fan_out, *, rng=None):
    rng = rng or np.random.default_rng()
    return np.sqrt(2.0 / fan_in) * rng.standard_normal((fan_in, fan_out))
