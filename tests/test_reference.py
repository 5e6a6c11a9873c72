"""The reference solution against computations that do not share its code."""
import numpy as np
import pytest


def numeric_grad(f, x, df, h):
    grad = np.zeros_like(x)
    for ix in np.ndindex(x.shape):
        old = x[ix]
        x[ix] = old + h
        pos = f(x)
        x[ix] = old - h
        neg = f(x)
        x[ix] = old
        grad[ix] = np.sum((pos - neg) * df) / (2 * h)
    return grad


def rel_error(a, b):
    return np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b)))


# Where a feature is constant, the forward pass curves on the scale of sqrt(eps), so
# the centred difference's error term grows like h**2 / eps (3e-7 at the default eps,
# measured); eps = 1e-2 keeps it near 1e-9 there, while the other cases use the default.
CASES = [((4, 5), None, 1e-5, 1e-5), ((10, 3), None, 1e-5, 1e-5), ((3, 6), None, 1e-5, 1e-5),
         ((7, 4), 2, 1e-2, 1e-5)]


@pytest.mark.parametrize("shape, constant, eps, h", CASES)
@pytest.mark.parametrize("backward", ["batchnorm_backward", "batchnorm_backward_alt"])
def test_backward_matches_numeric_gradient(ref, backward, shape, constant, eps, h):
    rng = np.random.default_rng(sum(shape))
    N, D = shape
    x = rng.normal(1.0, 2.0, shape)
    if constant is not None:
        x[:, constant] = 3.0
    gamma, beta, dout = rng.normal(size=D), rng.normal(size=D), rng.normal(size=shape)
    param = {"mode": "train", "eps": eps}
    bn = ref.batchnorm
    _, cache = bn.batchnorm_forward(x, gamma, beta, dict(param))
    dx, dgamma, dbeta = getattr(bn, backward)(dout, cache)

    def out(x_, g_, b_):
        return bn.batchnorm_forward(x_, g_, b_, dict(param))[0]

    assert rel_error(dx, numeric_grad(lambda v: out(v, gamma, beta), x.copy(), dout, h)) < 1e-8
    assert rel_error(dgamma, numeric_grad(lambda v: out(x, v, beta), gamma.copy(), dout, h)) < 1e-8
    assert rel_error(dbeta, numeric_grad(lambda v: out(x, gamma, v), beta.copy(), dout, h)) < 1e-8
    assert dx.shape == (N, D) and dgamma.shape == (D,) and dbeta.shape == (D,)


def test_forward_train_and_test_over_several_steps(ref):
    rng = np.random.default_rng(0)
    D, momentum = 3, 0.9
    bn_param = {"mode": "train"}
    mean, var = np.zeros(D), np.zeros(D)
    for _ in range(4):
        x = rng.normal(5.0, 2.0, (20, D))
        gamma, beta = rng.normal(size=D), rng.normal(size=D)
        out, _ = ref.batchnorm.batchnorm_forward(x, gamma, beta, bn_param)
        mu, sigma2 = x.sum(0) / 20, ((x - x.sum(0) / 20) ** 2).sum(0) / 20
        np.testing.assert_allclose(out, gamma * (x - mu) / np.sqrt(sigma2 + 1e-5) + beta, rtol=1e-12)
        mean, var = momentum * mean + (1 - momentum) * mu, momentum * var + (1 - momentum) * sigma2
        np.testing.assert_allclose(bn_param["running_mean"], mean, rtol=1e-12)
        np.testing.assert_allclose(bn_param["running_var"], var, rtol=1e-12)
    bn_param["mode"] = "test"
    x = rng.normal(size=(6, D))
    out, cache = ref.batchnorm.batchnorm_forward(x, np.ones(D), np.zeros(D), bn_param)
    np.testing.assert_allclose(out, (x - mean) / np.sqrt(var + 1e-5), rtol=1e-12)
    np.testing.assert_allclose(bn_param["running_mean"], mean, rtol=0)
    assert cache is None


def test_forward_batch_statistics_are_normalized(ref):
    x = np.random.default_rng(1).normal(10.0, 4.0, (200, 3))
    out, _ = ref.batchnorm.batchnorm_forward(x, np.ones(3), np.zeros(3), {"mode": "train"})
    np.testing.assert_allclose(out.mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(out.std(0), 1, atol=1e-5)


def test_unknown_mode_raises(ref):
    with pytest.raises(ValueError):
        ref.batchnorm.batchnorm_forward(np.ones((2, 2)), np.ones(2), np.zeros(2), {"mode": "eval"})


def test_no_argument_is_modified(ref):
    rng = np.random.default_rng(2)
    x, gamma, beta, dout = rng.normal(size=(5, 3)), rng.normal(size=3), rng.normal(size=3), rng.normal(size=(5, 3))
    running = np.full(3, 0.5)
    copies = [a.copy() for a in (x, gamma, beta, dout, running)]
    bn_param = {"mode": "train", "running_mean": running, "running_var": running}
    _, cache = ref.batchnorm.batchnorm_forward(x, gamma, beta, bn_param)
    ref.batchnorm.batchnorm_backward(dout, cache)
    ref.batchnorm.batchnorm_backward_alt(dout, cache)
    for function in ("zero_centered", "normalized", "data_preprocess"):
        getattr(ref.preprocessing, function)(x)
    for before, after in zip(copies, (x, gamma, beta, dout, running)):
        np.testing.assert_array_equal(before, after)


def test_preprocessing_values_and_constant_features(ref):
    X = np.random.default_rng(3).normal(7.0, 3.0, (30, 2, 2))
    X[:, 0, 1] = 4.0
    centred = ref.preprocessing.zero_centered(X)
    np.testing.assert_allclose(centred, X - X.sum(0) / 30, atol=1e-12)
    out = ref.preprocessing.data_preprocess(X)
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out[:, 0, 1], 0.0)
    np.testing.assert_allclose(np.delete(out.reshape(30, 4).std(0), 1), 1.0)
    ints = ref.preprocessing.normalized(np.arange(12).reshape(4, 3))
    assert ints.dtype.kind == "f"


@pytest.mark.parametrize("name, args, std", [("random_init", (0.01,), 0.01), ("random_init", (1.0,), 1.0),
                                             ("xavier_init", (), 1 / np.sqrt(400)),
                                             ("he_init", (), np.sqrt(2 / 400))])
def test_initializer_statistics_and_reproducibility(ref, name, args, std):
    function = getattr(ref.initializers, name)
    W = function(400, 250, *args, rng=np.random.default_rng(0))
    assert W.shape == (400, 250) and W.dtype == np.float64
    assert abs(W.mean()) < 5 * std / np.sqrt(W.size)
    assert abs(W.std() / std - 1) < 0.01
    np.testing.assert_array_equal(W, function(400, 250, *args, rng=np.random.default_rng(0)))
    assert function(3, 2, *args).shape == (3, 2)


def test_zeros_init(ref):
    W = ref.initializers.zeros_init(3, 5)
    assert W.shape == (3, 5) and W.dtype == np.float64 and not W.any()
