"""Correct batch normalization written differently: np.var, a dict cache, an error
class of its own for a bad mode."""
import numpy as np


class ModeError(ValueError):
    pass


def batchnorm_forward(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    if mode not in ("train", "test"):
        raise ModeError("mode must be 'train' or 'test'")
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    D = x.shape[1]
    running_mean = bn_param.get("running_mean", np.zeros(D))
    running_var = bn_param.get("running_var", np.zeros(D))
    cache = None
    if mode == "train":
        mean, var = np.mean(x, axis=0), np.var(x, axis=0)
        std = np.sqrt(var + eps)
        xn = (x - mean) / std
        out = xn * gamma + beta
        cache = {"xn": xn, "std": std, "gamma": gamma, "xc": x - mean}
        running_mean = running_mean * momentum + mean * (1 - momentum)
        running_var = running_var * momentum + var * (1 - momentum)
    else:
        out = gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta
    bn_param.update(running_mean=running_mean, running_var=running_var)
    return out, cache


def batchnorm_backward(dout, cache):
    xn, std, gamma, xc = cache["xn"], cache["std"], cache["gamma"], cache["xc"]
    N = dout.shape[0]
    dbeta = np.sum(dout, axis=0)
    dgamma = np.sum(dout * xn, axis=0)
    dxn = dout * gamma
    dxc = dxn / std
    dstd = -np.sum(dxn * xc / std ** 2, axis=0)
    dvar = 0.5 * dstd / std
    dxc += (2.0 / N) * xc * dvar
    dmu = np.sum(dxc, axis=0)
    return dxc - dmu / N, dgamma, dbeta


def batchnorm_backward_alt(dout, cache):
    xn, std, gamma = cache["xn"], cache["std"], cache["gamma"]
    N = dout.shape[0]
    dgamma = (dout * xn).sum(0)
    dbeta = dout.sum(0)
    dx = gamma / (N * std) * (N * dout - dbeta - xn * dgamma)
    return dx, dgamma, dbeta
