"""Given code: train a deep fully-connected network on scikit-learn's digits.

Nothing here is an exercise; read it, don't edit it. Each layer is a forward
function next to the backward function that belongs to it. ``FullyConnectedNet``
stacks the layers and, when asked, puts your ``batchnorm_forward`` and
``batchnorm_backward_alt`` after every hidden affine layer; ``train`` fits a
network with Adam.

The digits (1797 grey-scale images of 8x8 pixels) ship inside scikit-learn, so
nothing is downloaded. ``quick_grading`` and ``small_experiments`` tell the
notebooks how to run.
"""
import importlib.util
import os
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from batchnorm import batchnorm_backward_alt, batchnorm_forward


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
    out = x @ w + b
    return out, (x, w)


def affine_backward(dout, cache):
    """Gradients of the fully-connected layer.

    Parameters
    ----------
    dout : numpy.ndarray, shape (N, M)
        Upstream gradient.
    cache : tuple (x, w) from ``affine_forward``

    Returns
    -------
    dx : numpy.ndarray, shape (N, D)
    dw : numpy.ndarray, shape (D, M)
    db : numpy.ndarray, shape (M,)
    """
    x, w = cache
    dx = dout @ w.T
    dw = x.T @ dout
    db = dout.sum(axis=0)
    return dx, dw, db


def relu_forward(x):
    """Rectified linear unit ``out = max(0, x)``, elementwise.

    Returns
    -------
    out : numpy.ndarray, shape of x
    cache : numpy.ndarray, the input x
    """
    out = np.maximum(0, x)
    return out, x


def relu_backward(dout, cache):
    """Gradient of the ReLU: the upstream gradient where the input was positive, else 0."""
    x = cache
    return dout * (x > 0)


def softmax_loss(scores, y):
    """Mean cross-entropy of the softmax of the scores, and its gradient.

    Parameters
    ----------
    scores : numpy.ndarray, shape (N, C)
        Class scores; ``scores[i, c]`` for example i and class c.
    y : numpy.ndarray of int, shape (N,)
        Correct class of every example, ``0 <= y[i] < C``.

    Returns
    -------
    loss : float
    dscores : numpy.ndarray, shape (N, C)
        Gradient of the loss with respect to the scores.
    """
    N = scores.shape[0]
    shifted = scores - scores.max(axis=1, keepdims=True)  # exp cannot overflow
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probs[np.arange(N), y].mean()
    dscores = np.exp(log_probs)
    dscores[np.arange(N), y] -= 1
    dscores /= N
    return float(loss), dscores


class FullyConnectedNet:
    """{affine - [batchnorm] - ReLU} x (L - 1) - affine - softmax.

    Parameters
    ----------
    hidden_dims : list of int
        Width of every hidden layer; L - 1 = len(hidden_dims).
    input_dim, num_classes : int
    weight_scale : float
        Standard deviation of the Gaussian initial weights (used when ``init`` is None).
    batchnorm : bool
        Put batch normalization between every hidden affine layer and its ReLU.
    init : callable, optional
        ``init(fan_in, fan_out, rng)`` returns a layer's initial weights of shape
        (fan_in, fan_out); replaces the Gaussian of ``weight_scale``.
    seed : int
        Seeds the initial weights.

    Attributes
    ----------
    params : dict of str -> numpy.ndarray
        ``W1, b1, ..., WL, bL``; with batchnorm also ``gamma1, beta1, ...`` for the
        hidden layers (gamma starts at 1, beta and the biases at 0).
    bn_params : list of dict
        With batchnorm, the ``bn_param`` of every hidden layer: it holds the
        running statistics between calls.
    """

    def __init__(self, hidden_dims, input_dim=64, num_classes=10, weight_scale=1e-2,
                 batchnorm=False, init=None, seed=0):
        rng = np.random.default_rng(seed)
        dims = [input_dim, *hidden_dims, num_classes]
        self.num_layers = len(dims) - 1
        self.batchnorm = batchnorm
        self.params = {}
        for i, (fan_in, fan_out) in enumerate(zip(dims[:-1], dims[1:]), start=1):
            if init is None:
                self.params[f"W{i}"] = weight_scale * rng.standard_normal((fan_in, fan_out))
            else:
                self.params[f"W{i}"] = init(fan_in, fan_out, rng)
            self.params[f"b{i}"] = np.zeros(fan_out)
            if batchnorm and i < self.num_layers:
                self.params[f"gamma{i}"] = np.ones(fan_out)
                self.params[f"beta{i}"] = np.zeros(fan_out)
        self.bn_params = [{"mode": "train"} for _ in hidden_dims] if batchnorm else []

    def loss(self, X, y=None):
        """Class scores, or the loss and its gradients.

        Parameters
        ----------
        X : numpy.ndarray, shape (N, input_dim)
        y : numpy.ndarray of int, shape (N,), optional

        Returns
        -------
        Without y (test mode: batchnorm uses its running statistics):
            scores : numpy.ndarray, shape (N, num_classes)
        With y (train mode: batchnorm uses the batch statistics and updates the
        running ones):
            loss : float
            grads : dict, the gradient of the loss for every entry of ``params``
        """
        mode = "test" if y is None else "train"
        p = self.params
        L = self.num_layers
        h = X
        caches = []
        for i in range(1, L):
            h, fc_cache = affine_forward(h, p[f"W{i}"], p[f"b{i}"])
            bn_cache = None
            if self.batchnorm:
                bn_param = self.bn_params[i - 1]
                bn_param["mode"] = mode
                h, bn_cache = batchnorm_forward(h, p[f"gamma{i}"], p[f"beta{i}"], bn_param)
            h, relu_cache = relu_forward(h)
            caches.append((fc_cache, bn_cache, relu_cache))
        scores, fc_cache = affine_forward(h, p[f"W{L}"], p[f"b{L}"])
        if y is None:
            return scores

        loss, dscores = softmax_loss(scores, y)
        grads = {}
        dh, grads[f"W{L}"], grads[f"b{L}"] = affine_backward(dscores, fc_cache)
        for i in range(L - 1, 0, -1):
            fc_cache, bn_cache, relu_cache = caches[i - 1]
            dh = relu_backward(dh, relu_cache)
            if self.batchnorm:
                dh, grads[f"gamma{i}"], grads[f"beta{i}"] = batchnorm_backward_alt(dh, bn_cache)
            dh, grads[f"W{i}"], grads[f"b{i}"] = affine_backward(dh, fc_cache)
        return loss, grads


def adam(w, dw, config):
    """One Adam step (Kingma and Ba, 2015) for one parameter.

    Parameters
    ----------
    w, dw : numpy.ndarray
        The parameter and the gradient of the loss with respect to it.
    config : dict
        ``learning_rate`` (required), ``beta1`` (default 0.9), ``beta2``
        (default 0.999), ``epsilon`` (default 1e-8); and the optimizer's state,
        ``m``, ``v`` (moving averages of the gradient and of its square) and
        ``t`` (step count), created on the first call.

    Returns
    -------
    next_w : numpy.ndarray, the updated parameter (w itself is not modified)
    config : dict, with the updated state
    """
    lr = config["learning_rate"]
    beta1 = config.setdefault("beta1", 0.9)
    beta2 = config.setdefault("beta2", 0.999)
    epsilon = config.setdefault("epsilon", 1e-8)
    m = config.get("m", np.zeros_like(w))
    v = config.get("v", np.zeros_like(w))
    t = config.get("t", 0) + 1

    m = beta1 * m + (1 - beta1) * dw
    v = beta2 * v + (1 - beta2) * dw ** 2
    mhat = m / (1 - beta1 ** t)  # bias correction: m and v start at zero
    vhat = v / (1 - beta2 ** t)
    next_w = w - lr * mhat / (np.sqrt(vhat) + epsilon)

    config.update(m=m, v=v, t=t)
    return next_w, config


def accuracy(model, X, y):
    """Fraction of the examples in X whose highest test-mode score is the class in y."""
    return float(np.mean(model.loss(X).argmax(axis=1) == y))


def train(model, data, num_epochs=10, batch_size=100, learning_rate=1e-3, seed=0):
    """Fit ``model`` to ``data['X_train'], data['y_train']`` with minibatch Adam.

    Parameters
    ----------
    model : FullyConnectedNet
        Its ``params`` are updated in place.
    data : dict
        ``X_train, y_train, X_val, y_val`` as returned by ``load_digits_split``.
    num_epochs : int
        Passes over the training set, each in a fresh random order.
    batch_size : int
    learning_rate : float
    seed : int
        Seeds the order of the examples.

    Returns
    -------
    history : dict of lists
        ``loss``: the minibatch loss of every step; ``train_acc``, ``val_acc``:
        accuracy on the training and validation sets after every epoch.
    """
    rng = np.random.default_rng(seed)
    X, y = data["X_train"], data["y_train"]
    configs = {name: {"learning_rate": learning_rate} for name in model.params}
    history = {"loss": [], "train_acc": [], "val_acc": []}
    # The matrices are small: one BLAS thread is faster than several competing for them.
    with threadpool_limits(limits=1, user_api="blas"):
        for _ in range(num_epochs):
            order = rng.permutation(len(X))
            for start in range(0, len(X), batch_size):
                batch = order[start:start + batch_size]
                loss, grads = model.loss(X[batch], y[batch])
                history["loss"].append(loss)
                for name, dw in grads.items():
                    model.params[name], configs[name] = adam(model.params[name], dw, configs[name])
            history["train_acc"].append(accuracy(model, X, y))
            history["val_acc"].append(accuracy(model, data["X_val"], data["y_val"]))
    return history


def load_digits_split(num_val=300, num_test=300, seed=0):
    """scikit-learn's handwritten digits, shuffled and split into train, val and test.

    Parameters
    ----------
    num_val, num_test : int
        Sizes of the validation and test sets; the rest of the 1797 images is
        the training set.
    seed : int
        Seeds the shuffle.

    Returns
    -------
    dict
        ``X_train, X_val, X_test``: float64 arrays of shape (n, 64), one row per
        8x8 image, pixel intensities 0 to 16, unpreprocessed;
        ``y_train, y_val, y_test``: int arrays of shape (n,), the digit 0 to 9.
    """
    # The file scikit-learn's load_digits reads, read without importing scikit-learn,
    # which takes about a second: every notebook's kernel would pay it.
    (sklearn,) = importlib.util.find_spec("sklearn").submodule_search_locations
    digits = np.loadtxt(Path(sklearn) / "datasets" / "data" / "digits.csv.gz", delimiter=",")
    order = np.random.default_rng(seed).permutation(len(digits))
    X = digits[order, :-1]
    y = digits[order, -1].astype(int)
    num_train = len(y) - num_val - num_test
    val_end = num_train + num_val
    return {
        "X_train": X[:num_train], "y_train": y[:num_train],
        "X_val": X[num_train:val_end], "y_val": y[num_train:val_end],
        "X_test": X[val_end:], "y_test": y[val_end:],
    }


def standardize(data):
    """Centre and scale every split with the *training set's* per-feature statistics.

    The mean and standard deviation (ddof=0) of every feature are computed on
    ``data['X_train']`` only and applied unchanged to ``X_val`` and ``X_test``; a
    feature that is constant in the training set is divided by 1.

    Returns
    -------
    dict
        A new dict like ``data`` with preprocessed ``X_*`` arrays; the labels are
        shared with ``data``.
    """
    mu = data["X_train"].mean(axis=0)
    sigma = data["X_train"].std(axis=0)
    sigma = np.where(sigma == 0, 1.0, sigma)
    return {name: (value - mu) / sigma if name.startswith("X_") else value
            for name, value in data.items()}


def quick_grading():
    """Whether nbgrader is running the notebook to grade it (``nbgrader autograde`` and
    ``validate`` set NBGRADER_EXECUTION) and the instructor has not asked for the full
    experiments (BATCHNORM_FULL_EXPERIMENTS=1). Then the notebooks run small experiments,
    draw no figures and reload no modules: a grade depends on none of these."""
    return bool(os.environ.get("NBGRADER_EXECUTION")) and os.environ.get("BATCHNORM_FULL_EXPERIMENTS") != "1"


def small_experiments():
    """Whether the notebooks run small, fast versions of their experiments (fewer
    inputs, epochs and weight scales, on the same networks the questions are about):
    under ``quick_grading``, and with BATCHNORM_SMOKE=1 (the tests)."""
    return quick_grading() or os.environ.get("BATCHNORM_SMOKE") == "1"
