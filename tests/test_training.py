"""The given training code: every layer's backward against numeric gradients, the
network, Adam, the training loop and the digits loader."""
import importlib
import sys

import numpy as np
import pytest

from conftest import MASTER


@pytest.fixture(scope="module")
def training():
    """training.py of the master, importing the reference batchnorm.py as ``batchnorm``
    (as it does in a student's folder); sys.path and sys.modules are restored after."""
    names = ("batchnorm", "training")
    saved = {name: sys.modules.pop(name, None) for name in names}
    sys.path.insert(0, str(MASTER))
    try:
        yield importlib.import_module("training")
    finally:
        sys.path.remove(str(MASTER))
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module


@pytest.fixture(scope="module")
def digits(training):
    return training.standardize(training.load_digits_split())


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def test_affine_backward_matches_numeric_gradients(training, ref, rng):
    gc = ref.gradient_check
    x, w, b = rng.standard_normal((4, 5)), rng.standard_normal((5, 3)), rng.standard_normal(3)
    dout = rng.standard_normal((4, 3))
    out, cache = training.affine_forward(x, w, b)
    np.testing.assert_allclose(out, x @ w + b)
    dx, dw, db = training.affine_backward(dout, cache)
    numeric = gc.eval_numerical_gradient_array
    assert gc.rel_error(dx, numeric(lambda x: training.affine_forward(x, w, b)[0], x, dout)) < 1e-8
    assert gc.rel_error(dw, numeric(lambda w: training.affine_forward(x, w, b)[0], w, dout)) < 1e-8
    assert gc.rel_error(db, numeric(lambda b: training.affine_forward(x, w, b)[0], b, dout)) < 1e-8


def test_relu_backward_matches_numeric_gradient(training, ref, rng):
    gc = ref.gradient_check
    x = rng.standard_normal((6, 7))
    x[np.abs(x) < 0.01] = 0.5  # keep clear of the kink, where the numeric gradient is ill-defined
    dout = rng.standard_normal(x.shape)
    out, cache = training.relu_forward(x)
    np.testing.assert_array_equal(out, np.where(x > 0, x, 0))
    numeric = gc.eval_numerical_gradient_array(lambda x: training.relu_forward(x)[0], x, dout)
    assert gc.rel_error(training.relu_backward(dout, cache), numeric) < 1e-8


def test_softmax_loss_value_and_gradient(training, ref, rng):
    gc = ref.gradient_check
    scores = rng.standard_normal((8, 10))
    y = rng.integers(0, 10, size=8)
    loss, dscores = training.softmax_loss(scores, y)
    probs = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    assert loss == pytest.approx(-np.log(probs[np.arange(8), y]).mean())
    numeric = gc.eval_numerical_gradient(lambda s: training.softmax_loss(s, y)[0], scores)
    assert gc.rel_error(dscores, numeric) < 1e-7
    # Scores far too large for a naive exp must still give finite values.
    loss, dscores = training.softmax_loss(1e4 * scores, y)
    assert np.isfinite(loss) and np.all(np.isfinite(dscores))


@pytest.mark.parametrize("batchnorm", [False, True], ids=["plain", "batchnorm"])
def test_network_gradients_match_numeric_gradients(training, ref, rng, batchnorm):
    gc = ref.gradient_check
    X = rng.standard_normal((6, 7))
    y = rng.integers(0, 4, size=6)
    model = training.FullyConnectedNet([9, 8], input_dim=7, num_classes=4, weight_scale=0.5,
                                       batchnorm=batchnorm, seed=1)
    loss, grads = model.loss(X, y)
    assert set(grads) == set(model.params)
    expected = {"W1", "b1", "W2", "b2", "W3", "b3"} | ({"gamma1", "beta1", "gamma2", "beta2"} if batchnorm else set())
    assert set(model.params) == expected
    for name, analytic in grads.items():
        numeric = gc.eval_numerical_gradient(lambda _: model.loss(X, y)[0], model.params[name])
        if batchnorm and name in ("b1", "b2"):
            # Batchnorm subtracts the batch mean right after these biases: no effect, no gradient.
            assert np.abs(analytic).max() < 1e-12 and np.abs(numeric).max() < 1e-8
        else:
            assert gc.rel_error(analytic, numeric) < 1e-6, name


def test_batchnorm_network_uses_running_statistics_at_test_time(training, rng):
    model = training.FullyConnectedNet([20, 20], input_dim=5, num_classes=3, batchnorm=True)
    for _ in range(5):
        model.loss(rng.standard_normal((16, 5)), rng.integers(0, 3, size=16))
    X = rng.standard_normal((10, 5))
    scores = model.loss(X)
    assert scores.shape == (10, 3)
    np.testing.assert_allclose(model.loss(X[:1]), scores[:1])
    assert all(np.any(p["running_var"] > 0) for p in model.bn_params)


def test_custom_init_is_used_for_every_layer(training):
    model = training.FullyConnectedNet([4, 3], input_dim=5, num_classes=2,
                                       init=lambda fan_in, fan_out, rng: np.full((fan_in, fan_out), 0.5))
    assert [model.params[f"W{i}"].shape for i in (1, 2, 3)] == [(5, 4), (4, 3), (3, 2)]
    assert all(np.all(model.params[f"W{i}"] == 0.5) for i in (1, 2, 3))


def test_adam_first_step_moves_every_weight_by_the_learning_rate(training, rng):
    w = rng.standard_normal(5)
    dw = rng.standard_normal(5)
    w_before = w.copy()
    next_w, config = training.adam(w, dw, {"learning_rate": 1e-2})
    # After bias correction the first step is lr * dw / |dw| (up to epsilon).
    np.testing.assert_allclose(next_w, w - 1e-2 * np.sign(dw), rtol=1e-6)
    np.testing.assert_array_equal(w, w_before)
    assert config["t"] == 1
    _, config = training.adam(next_w, dw, config)
    assert config["t"] == 2


def test_train_reaches_high_accuracy_on_digits_and_is_reproducible(training, digits):
    histories = []
    for _ in range(2):
        model = training.FullyConnectedNet([64, 64], weight_scale=1e-2, batchnorm=True)
        histories.append(training.train(model, digits, num_epochs=3, batch_size=100))
    history = histories[0]
    steps_per_epoch = -(-len(digits["X_train"]) // 100)
    assert len(history["loss"]) == 3 * steps_per_epoch
    assert len(history["train_acc"]) == len(history["val_acc"]) == 3
    assert history["loss"][-1] < history["loss"][0]
    assert history["val_acc"][-1] > 0.9
    assert histories[1] == history


def test_digits_split_is_a_partition_of_the_shipped_data(training):
    data = training.load_digits_split(num_val=200, num_test=100, seed=3)
    assert [data[f"X_{s}"].shape for s in ("train", "val", "test")] == [(1497, 64), (200, 64), (100, 64)]
    assert all(data[f"X_{s}"].dtype == np.float64 for s in ("train", "val", "test"))
    labels = np.concatenate([data["y_train"], data["y_val"], data["y_test"]])
    assert sorted(set(labels)) == list(range(10)) and len(labels) == 1797
    rows = np.concatenate([data["X_train"], data["X_val"], data["X_test"]])
    assert rows.min() == 0 and rows.max() == 16
    np.testing.assert_array_equal(training.load_digits_split(num_val=200, num_test=100, seed=3)["X_val"],
                                  data["X_val"])


def test_digits_are_scikit_learns(training):
    """load_digits_split reads scikit-learn's file itself (importing scikit-learn is slow)."""
    from sklearn.datasets import load_digits
    digits = load_digits()
    order = np.random.default_rng(0).permutation(1797)
    data = training.load_digits_split()
    splits = ("train", "val", "test")
    np.testing.assert_array_equal(np.concatenate([data[f"X_{s}"] for s in splits]), digits.data[order])
    np.testing.assert_array_equal(np.concatenate([data[f"y_{s}"] for s in splits]), digits.target[order])


@pytest.mark.parametrize("environment, quick, small", [
    ({}, False, False),
    ({"BATCHNORM_SMOKE": "1"}, False, True),
    ({"NBGRADER_EXECUTION": "autograde"}, True, True),
    ({"NBGRADER_EXECUTION": "validate"}, True, True),
    ({"NBGRADER_EXECUTION": "autograde", "BATCHNORM_FULL_EXPERIMENTS": "1"}, False, False),
])
def test_nbgrader_grades_with_small_experiments_unless_asked_for_the_full_ones(training, monkeypatch,
                                                                                 environment, quick, small):
    for name in ("NBGRADER_EXECUTION", "BATCHNORM_SMOKE", "BATCHNORM_FULL_EXPERIMENTS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert (training.quick_grading(), training.small_experiments()) == (quick, small)


def test_standardize_applies_training_statistics_to_every_split(training):
    data = training.load_digits_split()
    out = training.standardize(data)
    mu = data["X_train"].mean(axis=0)
    sigma = data["X_train"].std(axis=0)
    constant = sigma == 0
    assert constant.any(), "the digits have blank border pixels; this test relies on one"
    np.testing.assert_allclose(out["X_train"].mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(out["X_train"].std(axis=0)[~constant], 1)
    np.testing.assert_allclose(out["X_test"][:, ~constant], (data["X_test"] - mu)[:, ~constant] / sigma[~constant])
    np.testing.assert_allclose(out["X_test"][:, constant], (data["X_test"] - mu)[:, constant])
    assert out["y_test"] is data["y_test"]
    changed_test = dict(data, X_test=data["X_test"] + 100)
    np.testing.assert_array_equal(training.standardize(changed_test)["X_train"], out["X_train"])
