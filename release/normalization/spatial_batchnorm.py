"""Spatial batch normalization: batch normalization for convolutional feature maps.

A convolutional layer's output x has shape (N, C, H, W): C channels, each a map of
H x W positions. A channel computes the same feature at every position, so it gets
one mean, one variance, one gamma and one beta, whose statistics pool the values of
that channel at every position of every example: N * H * W values per channel.
Otherwise it is batch normalization, with its train and test modes and its running
averages. With H = W = 1 it is exactly batch normalization of an (N, C) batch.
"""
import numpy as np


def spatial_batchnorm_forward(x, gamma, beta, bn_param):
    """Forward pass of spatial batch normalization.

    Write it in this module (the first assignment's batchnorm.py is not part of this
    one); a helper function of your own here is fine.

    Parameters
    ----------
    x : numpy.ndarray, float, shape (N, C, H, W)
        A minibatch of N feature maps with C channels of H x W positions.
    gamma : numpy.ndarray, shape (C,)
        Scale of every channel.
    beta : numpy.ndarray, shape (C,)
        Shift of every channel.
    bn_param : dict
        - ``mode`` (required): ``'train'`` or ``'test'``; anything else raises
          ``ValueError``.
        - ``eps`` (default 1e-5): added to the variance inside the square root.
        - ``momentum`` (default 0.9): decay of the running averages.
        - ``running_mean``, ``running_var`` (default zeros of shape (C,)): running
          averages of every channel's batch mean and variance.

    Returns
    -------
    out : numpy.ndarray, shape (N, C, H, W)
        train: ``gamma * xhat + beta`` with ``xhat = (x - mu) / sqrt(var + eps)``,
        where mu and var are every channel's mean and biased (ddof=0) variance over
        the examples and positions (axes 0, 2 and 3), and gamma, beta, mu and var
        of channel c apply to x[:, c, :, :].
        test: the same, with ``running_mean`` and ``running_var`` in place of mu
        and var.
    cache : object
        Whatever your backward pass needs (the backward pass follows train mode).

    Notes
    -----
    In train mode the running averages are updated as
    ``running_mean = momentum * running_mean + (1 - momentum) * mu`` and
    ``running_var = momentum * running_var + (1 - momentum) * var``, with shape (C,);
    in test mode they are left as they are. In both modes they are stored back into
    ``bn_param``. The arrays x, gamma, beta and those in bn_param are not modified in
    place.
    """
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    N, C, H, W = x.shape
    running_mean = bn_param.get("running_mean", np.zeros(C))
    running_var = bn_param.get("running_var", np.zeros(C))

    # YOUR CODE HERE
    raise NotImplementedError()

    bn_param["running_mean"] = running_mean
    bn_param["running_var"] = running_var
    return out, cache


def spatial_batchnorm_backward(dout, cache):
    """Backward pass of spatial batch normalization.

    Parameters
    ----------
    dout : numpy.ndarray, shape (N, C, H, W)
        Upstream gradient of the loss with respect to ``out``.
    cache : object
        The cache returned by ``spatial_batchnorm_forward`` in train mode.

    Returns
    -------
    dx : numpy.ndarray, shape (N, C, H, W)
    dgamma : numpy.ndarray, shape (C,)
    dbeta : numpy.ndarray, shape (C,)
        Gradients of the loss with respect to x, gamma and beta. dout is not
        modified in place.
    """
    # YOUR CODE HERE
    raise NotImplementedError()
    return dx, dgamma, dbeta
