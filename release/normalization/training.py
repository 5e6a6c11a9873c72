"""Given code: the notebooks' networks, trained on scikit-learn's digits with Adam.

Nothing here is an exercise; read it, don't edit it. Both networks put one of
**your** normalization layers after every hidden affine or convolutional layer:

- ``FullyConnectedNet``: {affine - normalization - ReLU} x (L - 1) - affine - softmax,
  with layer normalization or batch normalization. Batch normalization of an (N, D)
  batch is spatial batch normalization of the (N, D, 1, 1) batch (each feature a
  channel of one position), so your ``spatial_batchnorm_forward`` and
  ``spatial_batchnorm_backward`` play batch normalization here.
- ``ConvNet``: conv - normalization - ReLU - max pool - conv - normalization - ReLU -
  average over the positions - affine - softmax, on the digits as 1 x 8 x 8 images,
  with spatial batch normalization or group normalization.

The digits (1797 grey-scale images of 8 x 8 pixels) ship inside scikit-learn, so
nothing is downloaded. ``quick_grading`` and ``small_experiments`` tell the notebooks
how to run.
"""
import importlib.util
import os
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from groupnorm import spatial_groupnorm_backward, spatial_groupnorm_forward
from layernorm import layernorm_backward, layernorm_forward
from layers import (
    affine_backward,
    affine_forward,
    conv_backward,
    conv_forward,
    max_pool_backward,
    max_pool_forward,
    relu_backward,
    relu_forward,
    softmax_loss,
)
from spatial_batchnorm import spatial_batchnorm_backward, spatial_batchnorm_forward


class Normalization:
    """One of your normalization layers, for C features or channels.

    ``kind`` is ``"batchnorm"`` (spatial batch normalization; an (N, C) input is
    treated as (N, C, 1, 1)), ``"layernorm"`` (of (N, C) inputs) or ``"groupnorm"``
    (of (N, C, H, W) inputs, ``groups`` groups). ``param`` is the layer's bn_param,
    ln_param or gn_param; a batchnorm layer keeps its running averages there.
    """

    def __init__(self, kind, C, groups=None):
        self.kind, self.C, self.groups = kind, C, groups
        self.param = {"mode": "train"}

    def initial_parameters(self):
        """gamma of ones and beta of zeros, (1, C, 1, 1) for group normalization, else (C,)."""
        shape = (1, self.C, 1, 1) if self.kind == "groupnorm" else (self.C,)
        return np.ones(shape), np.zeros(shape)

    def forward(self, x, gamma, beta, mode):
        """(out, cache) in ``mode`` (``"train"`` or ``"test"``)."""
        self.param["mode"] = mode  # a network sets the mode of all its layers, as CS231n's does
        if self.kind == "batchnorm":
            flat = x.ndim == 2
            out, cache = spatial_batchnorm_forward(x[:, :, None, None] if flat else x, gamma, beta, self.param)
            return (out[:, :, 0, 0] if flat else out), cache
        if self.kind == "layernorm":
            return layernorm_forward(x, gamma, beta, self.param)
        return spatial_groupnorm_forward(x, gamma, beta, self.groups, self.param)

    def backward(self, dout, cache):
        """(dx, dgamma, dbeta)."""
        if self.kind == "batchnorm":
            flat = dout.ndim == 2
            dx, dgamma, dbeta = spatial_batchnorm_backward(dout[:, :, None, None] if flat else dout, cache)
            return (dx[:, :, 0, 0] if flat else dx), dgamma, dbeta
        if self.kind == "layernorm":
            return layernorm_backward(dout, cache)
        return spatial_groupnorm_backward(dout, cache)


def he_weights(rng, *shape, fan_in):
    """Gaussian weights of variance 2 / fan_in (He initialization, for ReLU networks)."""
    return rng.standard_normal(shape) * np.sqrt(2 / fan_in)


class FullyConnectedNet:
    """{affine - [normalization] - ReLU} x (L - 1) - affine - softmax.

    Parameters
    ----------
    hidden_dims : list of int
        Width of every hidden layer; L - 1 = len(hidden_dims).
    normalization : None, "batchnorm" or "layernorm"
        The normalization between every hidden affine layer and its ReLU.
    input_dim, num_classes : int
    seed : int
        Seeds the initial weights (He initialization; gamma starts at 1, beta and
        the biases at 0).

    Attributes
    ----------
    params : dict of str -> numpy.ndarray
        ``W1, b1, ..., WL, bL``, and ``gamma1, beta1, ...`` for the hidden layers
        when normalized.
    norms : list of Normalization
        The normalization layer of every hidden layer (empty without one).
    """

    def __init__(self, hidden_dims, normalization=None, input_dim=64, num_classes=10, seed=0):
        rng = np.random.default_rng(seed)
        dims = [input_dim, *hidden_dims, num_classes]
        self.num_layers = len(dims) - 1
        self.params = {}
        self.norms = [Normalization(normalization, width) for width in hidden_dims] if normalization else []
        for i, (fan_in, fan_out) in enumerate(zip(dims[:-1], dims[1:]), start=1):
            self.params[f"W{i}"] = he_weights(rng, fan_in, fan_out, fan_in=fan_in)
            self.params[f"b{i}"] = np.zeros(fan_out)
        for i, norm in enumerate(self.norms, start=1):
            self.params[f"gamma{i}"], self.params[f"beta{i}"] = norm.initial_parameters()

    def loss(self, X, y=None):
        """Class scores (N, num_classes) without y (test mode), else the loss and the
        gradient of every entry of ``params`` (train mode)."""
        mode = "test" if y is None else "train"
        p, L = self.params, self.num_layers
        h, caches = X, []
        for i in range(1, L):
            h, fc_cache = affine_forward(h, p[f"W{i}"], p[f"b{i}"])
            norm_cache = None
            if self.norms:
                h, norm_cache = self.norms[i - 1].forward(h, p[f"gamma{i}"], p[f"beta{i}"], mode)
            h, relu_cache = relu_forward(h)
            caches.append((fc_cache, norm_cache, relu_cache))
        scores, fc_cache = affine_forward(h, p[f"W{L}"], p[f"b{L}"])
        if y is None:
            return scores

        loss, dscores = softmax_loss(scores, y)
        grads = {}
        dh, grads[f"W{L}"], grads[f"b{L}"] = affine_backward(dscores, fc_cache)
        for i in range(L - 1, 0, -1):
            fc_cache, norm_cache, relu_cache = caches[i - 1]
            dh = relu_backward(dh, relu_cache)
            if self.norms:
                dh, grads[f"gamma{i}"], grads[f"beta{i}"] = self.norms[i - 1].backward(dh, norm_cache)
            dh, grads[f"W{i}"], grads[f"b{i}"] = affine_backward(dh, fc_cache)
        return loss, grads


class ConvNet:
    """A small convolutional network for 8 x 8 grey-scale images:
    conv - norm - ReLU - 2 x 2 max pool - conv - norm - ReLU - average over the
    positions - affine - softmax.

    Parameters
    ----------
    normalization : "batchnorm" or "groupnorm"
        Spatial batch normalization or group normalization after each convolution.
    channels : tuple of two ints
        The channels of the two convolutions.
    groups : int
        With group normalization, the number of groups of both layers (it divides
        both numbers of channels).
    seed : int
        Seeds the initial weights (He initialization).
    """

    def __init__(self, normalization, channels=(8, 16), groups=4, num_classes=10, seed=0):
        rng = np.random.default_rng(seed)
        c1, c2 = channels
        self.norms = [Normalization(normalization, c, groups) for c in channels]
        self.params = {"W1": he_weights(rng, c1, 1, 3, 3, fan_in=9), "b1": np.zeros(c1),
                       "W2": he_weights(rng, c2, c1, 3, 3, fan_in=9 * c1), "b2": np.zeros(c2),
                       "W3": he_weights(rng, c2, num_classes, fan_in=c2), "b3": np.zeros(num_classes)}
        for i, norm in enumerate(self.norms, start=1):
            self.params[f"gamma{i}"], self.params[f"beta{i}"] = norm.initial_parameters()

    def loss(self, X, y=None):
        """As ``FullyConnectedNet.loss``; X is (N, 64), one flattened 8 x 8 image per row."""
        mode = "test" if y is None else "train"
        p = self.params
        h = X.reshape(-1, 1, 8, 8)
        caches = []
        for i, norm in enumerate(self.norms, start=1):
            h, conv_cache = conv_forward(h, p[f"W{i}"], p[f"b{i}"])
            h, norm_cache = norm.forward(h, p[f"gamma{i}"], p[f"beta{i}"], mode)
            h, relu_cache = relu_forward(h)
            pool_cache = None
            if i == 1:
                h, pool_cache = max_pool_forward(h)
            caches.append((conv_cache, norm_cache, relu_cache, pool_cache))
        positions = h.shape[2] * h.shape[3]
        features = h.mean(axis=(2, 3))
        scores, fc_cache = affine_forward(features, p["W3"], p["b3"])
        if y is None:
            return scores

        loss, dscores = softmax_loss(scores, y)
        grads = {}
        dfeatures, grads["W3"], grads["b3"] = affine_backward(dscores, fc_cache)
        dh = np.broadcast_to(dfeatures[:, :, None, None] / positions, h.shape)
        for i in range(len(self.norms), 0, -1):
            conv_cache, norm_cache, relu_cache, pool_cache = caches[i - 1]
            if pool_cache is not None:
                dh = max_pool_backward(dh, pool_cache)
            dh = relu_backward(dh, relu_cache)
            dh, grads[f"gamma{i}"], grads[f"beta{i}"] = self.norms[i - 1].backward(dh, norm_cache)
            dh, grads[f"W{i}"], grads[f"b{i}"] = conv_backward(dh, conv_cache)
        return loss, grads


def adam(w, dw, config):
    """One Adam step (Kingma and Ba, 2015) for one parameter.

    ``config`` holds ``learning_rate`` (required), ``beta1`` (0.9), ``beta2`` (0.999),
    ``epsilon`` (1e-8), and the optimizer's state ``m``, ``v`` and ``t``, created at
    the first call. Returns the updated parameter (w is not modified) and config.
    """
    lr = config["learning_rate"]
    beta1 = config.setdefault("beta1", 0.9)
    beta2 = config.setdefault("beta2", 0.999)
    epsilon = config.setdefault("epsilon", 1e-8)
    t = config.get("t", 0) + 1
    m = beta1 * config.get("m", np.zeros_like(w)) + (1 - beta1) * dw
    v = beta2 * config.get("v", np.zeros_like(w)) + (1 - beta2) * dw ** 2
    next_w = w - lr * (m / (1 - beta1 ** t)) / (np.sqrt(v / (1 - beta2 ** t)) + epsilon)
    config.update(m=m, v=v, t=t)
    return next_w, config


def accuracy(model, X, y):
    """Fraction of the examples in X whose highest test-mode score is the class in y."""
    return float(np.mean(model.loss(X).argmax(axis=1) == y))


def train(model, data, num_epochs=10, batch_size=50, learning_rate=1e-3, seed=0):
    """Fit ``model`` to ``data['X_train'], data['y_train']`` with minibatch Adam.

    Every epoch is one pass over the training set in a fresh random order, so a
    smaller batch makes more (and noisier) steps per epoch.

    Returns
    -------
    history : dict of lists
        ``loss``: the minibatch loss of every step; ``train_acc``, ``val_acc``:
        test-mode accuracy on the training and validation sets after every epoch.
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

    Returns a dict: ``X_train, X_val, X_test``, float64 arrays of shape (n, 64), one
    row per 8 x 8 image (pixel intensities 0 to 16, unpreprocessed), and ``y_train,
    y_val, y_test``, int arrays of shape (n,), the digit 0 to 9.
    """
    # The file scikit-learn's load_digits reads, read without importing scikit-learn,
    # which takes about a second: every notebook's kernel would pay it.
    (sklearn,) = importlib.util.find_spec("sklearn").submodule_search_locations
    digits = np.loadtxt(Path(sklearn) / "datasets" / "data" / "digits.csv.gz", delimiter=",")
    order = np.random.default_rng(seed).permutation(len(digits))
    X, y = digits[order, :-1], digits[order, -1].astype(int)
    num_train = len(y) - num_val - num_test
    val_end = num_train + num_val
    return {"X_train": X[:num_train], "y_train": y[:num_train],
            "X_val": X[num_train:val_end], "y_val": y[num_train:val_end],
            "X_test": X[val_end:], "y_test": y[val_end:]}


def standardize(data):
    """Every split centred and scaled with the *training set's* per-pixel mean and
    standard deviation (a pixel constant in the training set is divided by 1)."""
    mu = data["X_train"].mean(axis=0)
    sigma = data["X_train"].std(axis=0)
    sigma = np.where(sigma == 0, 1.0, sigma)
    return {name: (value - mu) / sigma if name.startswith("X_") else value for name, value in data.items()}


def quick_grading():
    """Whether nbgrader is running the notebook to grade it (``nbgrader autograde`` and
    ``validate`` set NBGRADER_EXECUTION) and the instructor has not asked for the full
    experiments (NORMALIZATION_FULL_EXPERIMENTS=1). Then the notebooks run small
    experiments, draw no figures and reload no modules: a grade depends on none of these."""
    return bool(os.environ.get("NBGRADER_EXECUTION")) and os.environ.get("NORMALIZATION_FULL_EXPERIMENTS") != "1"


def small_experiments():
    """Whether the notebooks run small, fast versions of their experiments (fewer
    epochs and batch sizes, the same networks): under ``quick_grading``, and with
    NORMALIZATION_SMOKE=1 (the tests)."""
    return quick_grading() or os.environ.get("NORMALIZATION_SMOKE") == "1"
