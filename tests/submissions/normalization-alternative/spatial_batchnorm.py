"""Correct spatial batch normalization written the CS231n way: a batch-norm helper on
the (N*H*W, C) view made with swapaxes, and its closed-form backward pass."""
import numpy as np


def _batchnorm(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    D = x.shape[1]
    running_mean = bn_param.get("running_mean", np.zeros(D, dtype=x.dtype))
    running_var = bn_param.get("running_var", np.zeros(D, dtype=x.dtype))
    cache = None
    if mode == "train":
        sample_mean = x.mean(axis=0)
        sample_var = x.var(axis=0)
        x_norm = (x - sample_mean) / np.sqrt(sample_var + eps)
        out = gamma * x_norm + beta
        cache = (x_norm, gamma, np.sqrt(sample_var + eps))
        running_mean = momentum * running_mean + (1 - momentum) * sample_mean
        running_var = momentum * running_var + (1 - momentum) * sample_var
    elif mode == "test":
        out = gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta
    else:
        raise ValueError(f'Invalid forward batchnorm mode "{mode}"')
    bn_param["running_mean"] = running_mean
    bn_param["running_var"] = running_var
    return out, cache


def spatial_batchnorm_forward(x, gamma, beta, bn_param):
    N, C, H, W = x.shape
    flat = np.swapaxes(x, 1, 3).reshape(N * W * H, C)
    out, cache = _batchnorm(flat, gamma, beta, bn_param)
    return np.swapaxes(out.reshape(N, W, H, C), 1, 3), cache


def spatial_batchnorm_backward(dout, cache):
    N, C, H, W = dout.shape
    x_norm, gamma, std = cache
    d = np.swapaxes(dout, 1, 3).reshape(-1, C)
    M = d.shape[0]
    dbeta = d.sum(axis=0)
    dgamma = (d * x_norm).sum(axis=0)
    dx = gamma / (M * std) * (M * d - dbeta - x_norm * dgamma)
    return np.swapaxes(dx.reshape(N, W, H, C), 1, 3), dgamma, dbeta
