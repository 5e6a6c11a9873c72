"""The three layers as the checks call them, and their seeded inputs, shared by the
public and the hidden checks."""
import numpy as np

from .judging import Case, Layer



def _per_example(case, r):
    return r.uniform(-2.0, 2.0, (case.x.shape[0],) + (1,) * (case.x.ndim - 1))


def _per_channel(case, r):
    return r.uniform(-2.0, 2.0, (1, case.x.shape[1], 1, 1))


def _per_group(case, r):
    (N, C), (G,) = case.x.shape[:2], case.extra
    return np.repeat(r.uniform(-2.0, 2.0, (N, G)), C // G, axis=1)[:, :, np.newaxis, np.newaxis]


LAYERNORM = Layer("layernorm_forward", "layernorm_backward", "ln_param", _per_example)
SPATIAL_BATCHNORM = Layer("spatial_batchnorm_forward", "spatial_batchnorm_backward", "bn_param", _per_channel,
                          stored=("running_mean", "running_var"))
GROUPNORM = Layer("spatial_groupnorm_forward", "spatial_groupnorm_backward", "gn_param", _per_group)


def tags(layer, backward=False):
    """A check's tags: the functions it calls (a backward pass needs its forward's cache)."""
    return [layer.forward, layer.backward] if backward else [layer.forward]


def param_of(layer, C, mode="train", **given):
    """The param dict of a call that spells out eps (and for batch normalization the
    mode, momentum and running averages of C channels, zeros unless ``given``): the
    defaults are judged by checks of their own, never again through every other check."""
    if layer is not SPATIAL_BATCHNORM:
        return {"eps": 1e-5, **given}
    return {"mode": mode, "eps": 1e-5, "momentum": 0.9, "running_mean": np.zeros(C), "running_var": np.zeros(C),
            **given}


def case(layer, seed, shape, *, G=None, mean=0.0, scale=1.0, param=None, words=""):
    """A seeded input of ``layer`` for x of ``shape``: every example and every feature
    (or channel) has an offset and a scale of its own, so that statistics pooled over
    the wrong axes give other numbers than the right ones. ``mean`` and ``scale``
    shift and stretch all of x; gamma and beta are one per feature or channel (shaped
    as the layer's contract says); dout is a random upstream gradient."""
    r = np.random.default_rng(seed)
    N, C = shape[:2]
    per_feature = (1, C) + (1,) * (len(shape) - 2)
    per_example = (N,) + (1,) * (len(shape) - 1)
    spread = r.uniform(0.5, 3.0, per_feature) * r.uniform(0.5, 2.0, per_example)
    offset = r.uniform(-2.0, 2.0, per_feature) + r.uniform(-2.0, 2.0, per_example)
    x = mean + scale * (r.standard_normal(shape) * spread + offset)
    parameter_shape = (1, C, 1, 1) if layer is GROUPNORM else (C,)
    gamma, beta = r.uniform(0.5, 2.0, parameter_shape), r.standard_normal(parameter_shape)
    if param is None:
        param = param_of(layer, C)
    tried = f"for x of shape {tuple(shape)}" + (f" with G = {G}" if G is not None else "") + (
        f", {words}" if words else "")
    return Case(x, gamma, beta, param, np.random.default_rng(seed + 1).standard_normal(shape), tried,
                () if G is None else (G,))


def constant(case, index, value=1.5, words=""):
    """``case`` with x[index] set to ``value`` (a constant example, channel or group)."""
    x = case.x.copy()
    x[index] = value
    return Case(x, case.gamma, case.beta, case.param, case.dout, f"{case.tried}, {words}", case.extra)
