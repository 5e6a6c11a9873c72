"""Correct layer normalization written the CS231n way: batch normalization of the
transposed input, with a staged backward pass."""
import numpy as np


def layernorm_forward(x, gamma, beta, ln_param):
    eps = ln_param.get("eps", 1e-5)
    xt = x.T  # (D, N): every example a column
    mu = np.mean(xt, axis=0)
    xmu = xt - mu
    sq = xmu ** 2
    var = np.mean(sq, axis=0)
    sqrtvar = np.sqrt(var + eps)
    ivar = 1.0 / sqrtvar
    xhat = (xmu * ivar).T
    out = xhat * gamma + beta
    return out, (xhat, gamma, xmu, ivar, sqrtvar, var, eps)


def layernorm_backward(dout, cache):
    xhat, gamma, xmu, ivar, sqrtvar, var, eps = cache
    D = xmu.shape[0]
    dbeta = np.sum(dout, axis=0)
    dgamma = np.sum(dout * xhat, axis=0)
    dxhat = (dout * gamma).T
    divar = np.sum(dxhat * xmu, axis=0)
    dxmu1 = dxhat * ivar
    dsqrtvar = -1.0 / (sqrtvar ** 2) * divar
    dvar = 0.5 / np.sqrt(var + eps) * dsqrtvar
    dsq = np.ones_like(xmu) / D * dvar
    dxmu2 = 2 * xmu * dsq
    dx1 = dxmu1 + dxmu2
    dmu = -np.sum(dx1, axis=0)
    dx = (dx1 + np.ones_like(xmu) / D * dmu).T
    return dx, dgamma, dbeta
