"""Correct group normalization written another way: one row per (example, group),
gamma and beta reshaped, and a staged backward pass."""
import numpy as np


def spatial_groupnorm_forward(x, gamma, beta, G, gn_param):
    eps = gn_param.get("eps", 1e-5)
    N, C, H, W = x.shape
    rows = x.reshape(N * G, -1)
    mean = rows.mean(axis=1, keepdims=True)
    centred = rows - mean
    var = (centred ** 2).mean(axis=1, keepdims=True)
    std = np.sqrt(var + eps)
    x_norm = (centred / std).reshape(N, C, H, W)
    out = gamma.reshape(1, C, 1, 1) * x_norm + beta.reshape(1, C, 1, 1)
    return out, {"x_norm": x_norm, "centred": centred, "std": std, "gamma": gamma, "G": G}


def spatial_groupnorm_backward(dout, cache):
    N, C, H, W = dout.shape
    G, std, centred = cache["G"], cache["std"], cache["centred"]
    dgamma = np.sum(dout * cache["x_norm"], axis=(0, 2, 3)).reshape(1, C, 1, 1)
    dbeta = np.sum(dout, axis=(0, 2, 3)).reshape(1, C, 1, 1)
    dnorm = (dout * cache["gamma"]).reshape(N * G, -1)
    M = dnorm.shape[1]
    dstd = -np.sum(dnorm * centred, axis=1, keepdims=True) / std ** 2
    dvar = dstd / (2 * std)
    dcentred = dnorm / std + 2 * centred * dvar / M
    drows = dcentred - dcentred.mean(axis=1, keepdims=True)
    return drows.reshape(N, C, H, W), dgamma, dbeta
