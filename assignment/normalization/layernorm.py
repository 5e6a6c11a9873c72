"""Layer normalization for a fully-connected layer: forward and backward passes.

Layer normalization (Ba, Kiros and Hinton, 2016) normalizes every *example* over its
own features, where batch normalization normalizes every *feature* over the examples
of the batch. An example's output therefore never depends on the rest of its batch:
the layer behaves the same with a batch of one, and the same in training and at test
time, with no running averages to keep. gamma and beta still scale and shift every
feature, as in batch normalization.
"""
import numpy as np


def layernorm_forward(x, gamma, beta, ln_param):
    """Forward pass of layer normalization.

    Parameters
    ----------
    x : numpy.ndarray, float, shape (N, D)
        A minibatch of N examples with D features each.
    gamma : numpy.ndarray, shape (D,)
        Scale of every feature, applied after normalizing.
    beta : numpy.ndarray, shape (D,)
        Shift of every feature, applied after the scale.
    ln_param : dict
        ``eps`` (default 1e-5): added to the variance inside the square root.
        Nothing else in it matters: layer normalization is the same in training and
        at test time, so a ``mode`` key (a network may pass one) changes nothing.

    Returns
    -------
    out : numpy.ndarray, shape (N, D)
        ``gamma * xhat + beta`` with ``xhat = (x - mu) / sqrt(var + eps)``, where mu
        and var are the mean and the biased (ddof=0) variance of every example
        (every row of x) over its D features.
    cache : object
        Whatever your backward pass needs.

    Notes
    -----
    x, gamma and beta are not modified in place; ln_param is only read.
    """
    eps = ln_param.get("eps", 1e-5)
    ### BEGIN SOLUTION
    # Statistics of every example over its features: axis 1, kept as (N, 1) columns.
    mu = x.mean(axis=1, keepdims=True)
    xmu = x - mu
    var = (xmu ** 2).mean(axis=1, keepdims=True)
    ivar = 1.0 / np.sqrt(var + eps)
    xhat = xmu * ivar
    out = gamma * xhat + beta
    cache = (xhat, ivar, gamma)
    ### END SOLUTION
    return out, cache


def layernorm_backward(dout, cache):
    """Backward pass of layer normalization.

    It is batch normalization's backward pass with the roles of the axes swapped:
    the sums that ran over the examples of a feature now run over the features of
    an example. dgamma and dbeta still sum over the examples, since gamma and beta
    belong to the features.

    Parameters
    ----------
    dout : numpy.ndarray, shape (N, D)
        Upstream gradient of the loss with respect to ``out``.
    cache : object
        The cache returned by ``layernorm_forward``.

    Returns
    -------
    dx : numpy.ndarray, shape (N, D)
    dgamma : numpy.ndarray, shape (D,)
    dbeta : numpy.ndarray, shape (D,)
        Gradients of the loss with respect to x, gamma and beta. dout is not
        modified in place.
    """
    ### BEGIN SOLUTION
    xhat, ivar, gamma = cache
    dbeta = dout.sum(axis=0)
    dgamma = (dout * xhat).sum(axis=0)
    dxhat = dout * gamma
    # x reaches xhat directly, through the mean and through the variance.
    dx = ivar * (dxhat - dxhat.mean(axis=1, keepdims=True) - xhat * (dxhat * xhat).mean(axis=1, keepdims=True))
    ### END SOLUTION
    return dx, dgamma, dbeta
