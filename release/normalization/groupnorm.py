"""Spatial group normalization: layer normalization for convolutional feature maps,
one group of channels at a time.

Group normalization (Wu and He, 2018) splits the C channels of every example into G
groups of C // G consecutive channels and normalizes each group over its channels
and positions, in that example alone. Like layer normalization it never looks at the
rest of the batch, so it works the same with a batch of one and at test time; unlike
it, channels that compute different kinds of features can keep different
statistics. G = 1 is layer normalization of each example's (C, H, W) values; G = C
normalizes every channel of every example on its own (instance normalization).
gamma and beta scale and shift every channel.
"""
import numpy as np


def spatial_groupnorm_forward(x, gamma, beta, G, gn_param):
    """Forward pass of spatial group normalization.

    Parameters
    ----------
    x : numpy.ndarray, float, shape (N, C, H, W)
        A minibatch of N feature maps with C channels of H x W positions.
    gamma : numpy.ndarray, shape (1, C, 1, 1)
        Scale of every channel (shaped to broadcast against x).
    beta : numpy.ndarray, shape (1, C, 1, 1)
        Shift of every channel.
    G : int
        The number of groups; C is divisible by G, and group g holds channels
        g * C // G to (g + 1) * C // G - 1.
    gn_param : dict
        ``eps`` (default 1e-5): added to the variance inside the square root.

    Returns
    -------
    out : numpy.ndarray, shape (N, C, H, W)
        ``gamma * xhat + beta`` with ``xhat = (x - mu) / sqrt(var + eps)``, where mu
        and var are the mean and the biased (ddof=0) variance of each group of each
        example, over its C // G channels and H x W positions.
    cache : object
        Whatever your backward pass needs.

    Notes
    -----
    x, gamma and beta are not modified in place; gn_param is only read.
    """
    eps = gn_param.get("eps", 1e-5)
    N, C, H, W = x.shape
    # YOUR CODE HERE
    raise NotImplementedError()
    return out, cache


def spatial_groupnorm_backward(dout, cache):
    """Backward pass of spatial group normalization.

    Parameters
    ----------
    dout : numpy.ndarray, shape (N, C, H, W)
        Upstream gradient of the loss with respect to ``out``.
    cache : object
        The cache returned by ``spatial_groupnorm_forward``.

    Returns
    -------
    dx : numpy.ndarray, shape (N, C, H, W)
    dgamma : numpy.ndarray, shape (1, C, 1, 1)
    dbeta : numpy.ndarray, shape (1, C, 1, 1)
        Gradients of the loss with respect to x, gamma and beta, each of the shape
        of what it is the gradient of. dout is not modified in place.
    """
    # YOUR CODE HERE
    raise NotImplementedError()
    return dx, dgamma, dbeta
