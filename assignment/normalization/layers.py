"""Given code: the layers of the notebooks' networks, each forward pass next to the
backward pass that belongs to it.

Nothing here is an exercise; read it, don't edit it. ``training.py`` builds networks
from these layers and yours.
"""
import numpy as np


def affine_forward(x, w, b):
    """Fully-connected layer ``out = x @ w + b``.

    Parameters
    ----------
    x : numpy.ndarray, shape (N, D)
    w : numpy.ndarray, shape (D, M)
    b : numpy.ndarray, shape (M,)

    Returns
    -------
    out : numpy.ndarray, shape (N, M)
    cache : tuple (x, w), for ``affine_backward``
    """
    return x @ w + b, (x, w)


def affine_backward(dout, cache):
    """Gradients of the fully-connected layer: dx (N, D), dw (D, M), db (M,)."""
    x, w = cache
    return dout @ w.T, x.T @ dout, dout.sum(axis=0)


def relu_forward(x):
    """Rectified linear unit ``max(0, x)``, elementwise; the cache is x."""
    return np.maximum(0, x), x


def relu_backward(dout, cache):
    """The upstream gradient where the input was positive, else 0."""
    return dout * (cache > 0)


def conv_forward(x, w, b):
    """A 3 x 3 convolution with stride 1 and zero padding 1 (the maps keep their size).

    Every output position is the dot product of a filter with the 3 x 3 x C patch of
    the input around it. The patches are gathered once into the rows of a matrix
    ("im2col"), so that the convolution is one matrix product.

    Parameters
    ----------
    x : numpy.ndarray, shape (N, C, H, W)
    w : numpy.ndarray, shape (F, C, 3, 3)
        F filters.
    b : numpy.ndarray, shape (F,)

    Returns
    -------
    out : numpy.ndarray, shape (N, F, H, W)
    cache : tuple, for ``conv_backward``
    """
    N, C, H, W = x.shape
    F = w.shape[0]
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    patches = np.empty((N, C, 3, 3, H, W))
    for i in range(3):
        for j in range(3):
            patches[:, :, i, j] = padded[:, :, i:i + H, j:j + W]
    columns = patches.transpose(0, 4, 5, 1, 2, 3).reshape(N * H * W, C * 9)  # one row per position
    out = (columns @ w.reshape(F, -1).T + b).reshape(N, H, W, F).transpose(0, 3, 1, 2)
    return out, (columns, w, x.shape)


def conv_backward(dout, cache):
    """Gradients of the convolution: dx (N, C, H, W), dw (F, C, 3, 3), db (F,)."""
    columns, w, (N, C, H, W) = cache
    F = w.shape[0]
    drows = dout.transpose(0, 2, 3, 1).reshape(-1, F)
    dw = (drows.T @ columns).reshape(w.shape)
    db = drows.sum(axis=0)
    # Every patch sends its gradient back to the positions it was gathered from.
    dpatches = (drows @ w.reshape(F, -1)).reshape(N, H, W, C, 3, 3).transpose(0, 3, 4, 5, 1, 2)
    dpadded = np.zeros((N, C, H + 2, W + 2))
    for i in range(3):
        for j in range(3):
            dpadded[:, :, i:i + H, j:j + W] += dpatches[:, :, i, j]
    return dpadded[:, :, 1:-1, 1:-1], dw, db


def max_pool_forward(x):
    """2 x 2 max pooling with stride 2: (N, C, H, W) to (N, C, H // 2, W // 2), H and W even.
    The cache marks where each maximum came from."""
    N, C, H, W = x.shape
    windows = x.reshape(N, C, H // 2, 2, W // 2, 2)
    out = windows.max(axis=(3, 5))
    return out, windows == out[:, :, :, None, :, None]


def max_pool_backward(dout, cache):
    """The upstream gradient goes to the maximum of each window (to each of equal maxima)."""
    N, C, h, _, w, _ = cache.shape
    return (cache * dout[:, :, :, None, :, None]).reshape(N, C, 2 * h, 2 * w)


def softmax_loss(scores, y):
    """Mean cross-entropy of the softmax of the scores, and its gradient.

    Parameters
    ----------
    scores : numpy.ndarray, shape (N, K)
        Class scores; ``scores[i, k]`` for example i and class k.
    y : numpy.ndarray of int, shape (N,)
        Correct class of every example, ``0 <= y[i] < K``.

    Returns
    -------
    loss : float
    dscores : numpy.ndarray, shape (N, K)
    """
    N = scores.shape[0]
    shifted = scores - scores.max(axis=1, keepdims=True)  # exp cannot overflow
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    dscores = np.exp(log_probs)
    dscores[np.arange(N), y] -= 1
    return float(-log_probs[np.arange(N), y].mean()), dscores / N
