"""Batch normalization for a fully-connected layer: forward and two backward passes.

Batch normalization (Ioffe and Szegedy, 2015) normalizes every feature of a
minibatch to mean 0 and variance 1, then scales and shifts it with learned
parameters gamma and beta. At training time it uses the statistics of the current
batch and keeps exponentially decaying running averages of them; at test time it
uses those running averages, so an example's output does not depend on its batch.
"""
import numpy as np


def batchnorm_forward(x, gamma, beta, bn_param):
    """Forward pass of batch normalization.

    Parameters
    ----------
    x : numpy.ndarray, float, shape (N, D)
        A minibatch of N examples with D features.
    gamma : numpy.ndarray, shape (D,)
        Scale applied to the normalized features.
    beta : numpy.ndarray, shape (D,)
        Shift applied after the scale.
    bn_param : dict
        - ``mode`` (required): ``'train'`` or ``'test'``; anything else raises
          ``ValueError``.
        - ``eps`` (default 1e-5): added to the variance inside the square root.
        - ``momentum`` (default 0.9): decay of the running averages.
        - ``running_mean``, ``running_var`` (default zeros of shape (D,)):
          running averages of the batch mean and variance.

    Returns
    -------
    out : numpy.ndarray, shape (N, D)
        train: ``gamma * xhat + beta`` with ``xhat = (x - mu) / sqrt(var + eps)``,
        where mu and var are the batch mean and the biased (ddof=0) batch
        variance of every feature.
        test: the same, with ``running_mean`` and ``running_var`` in place of
        mu and var.
    cache : object
        Whatever the backward pass needs (train mode); None in test mode.

    Notes
    -----
    In train mode the running averages are updated as
    ``running_mean = momentum * running_mean + (1 - momentum) * mu`` and
    ``running_var = momentum * running_var + (1 - momentum) * var``; in test mode
    they are left as they are. In both modes they are stored back into
    ``bn_param``. The arrays x, gamma, beta and those in bn_param are not modified
    in place.
    """
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    N, D = x.shape
    running_mean = bn_param.get("running_mean", np.zeros(D))
    running_var = bn_param.get("running_var", np.zeros(D))

    if mode == "train":
        mu = x.mean(axis=0)
        xmu = x - mu
        var = (xmu ** 2).mean(axis=0)
        sqrtvar = np.sqrt(var + eps)
        ivar = 1.0 / sqrtvar
        xhat = xmu * ivar
        out = gamma * xhat + beta
        cache = (xhat, xmu, ivar, sqrtvar, gamma)
        running_mean = momentum * running_mean + (1 - momentum) * mu
        running_var = momentum * running_var + (1 - momentum) * var
    elif mode == "test":
        xhat = (x - running_mean) / np.sqrt(running_var + eps)
        out = gamma * xhat + beta
        cache = None
    else:
        raise ValueError(f"invalid batchnorm mode {mode!r}: use 'train' or 'test'")

    bn_param["running_mean"] = running_mean
    bn_param["running_var"] = running_var
    return out, cache


def batchnorm_backward(dout, cache):
    """Backward pass of batch normalization through its staged computational graph.

    Walk the forward computation (mu, xmu, var, sqrtvar, ivar, xhat, out) in
    reverse, applying the chain rule at every node.

    Parameters
    ----------
    dout : numpy.ndarray, shape (N, D)
        Upstream gradient of the loss with respect to ``out``.
    cache : object
        The cache returned by ``batchnorm_forward`` in train mode.

    Returns
    -------
    dx : numpy.ndarray, shape (N, D)
    dgamma : numpy.ndarray, shape (D,)
    dbeta : numpy.ndarray, shape (D,)
        Gradients of the loss with respect to x, gamma and beta.
    """
    xhat, xmu, ivar, sqrtvar, gamma = cache
    N = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * xhat).sum(axis=0)
    dxhat = dout * gamma
    divar = (dxhat * xmu).sum(axis=0)
    dxmu1 = dxhat * ivar
    dsqrtvar = -divar / sqrtvar ** 2
    dvar = 0.5 / sqrtvar * dsqrtvar
    dsq = np.ones_like(dout) * dvar / N
    dxmu2 = 2 * xmu * dsq
    dx1 = dxmu1 + dxmu2
    dmu = -dx1.sum(axis=0)
    dx = dx1 + dmu / N
    return dx, dgamma, dbeta


def batchnorm_backward_alt(dout, cache):
    """Backward pass of batch normalization from the simplified closed form.

    Same inputs and outputs as ``batchnorm_backward``, computed as
    ``dx = (1/N) * gamma * invstd * (N*dout - sum(dout) - xhat*sum(dout*xhat))``
    (sums over the batch axis), in a few vectorized operations, so that it is
    faster than the staged version on large inputs.

    Parameters
    ----------
    dout : numpy.ndarray, shape (N, D)
    cache : object
        The cache returned by ``batchnorm_forward`` in train mode.

    Returns
    -------
    dx : numpy.ndarray, shape (N, D)
    dgamma : numpy.ndarray, shape (D,)
    dbeta : numpy.ndarray, shape (D,)
    """
    xhat, _, ivar, _, gamma = cache
    N = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * xhat).sum(axis=0)
    dx = (gamma * ivar / N) * (N * dout - dbeta - xhat * dgamma)
    return dx, dgamma, dbeta
