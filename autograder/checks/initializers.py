"""Hidden checks of initializers.py, including statistical tests of the draws.

Sample size and thresholds
--------------------------
Each draw is W of shape (500, 300): n = 150,000 values. For a correct initializer
the values are i.i.d. N(0, sigma^2), and we test three statistics, each against a
threshold of Z = 5.5 standard deviations of its sampling distribution. A standard
normal exceeds 5.5 in absolute value with probability 3.8e-8, so even with the
three tests of a check and a margin for the normal approximations below, a correct
implementation fails a check with probability well under 1e-6.

- Mean: mean(W) ~ N(0, sigma^2 / n) exactly, so we require
  |mean(W)| / sigma < Z / sqrt(n) = 0.0142.
- Standard deviation: (n - 1) s^2 / sigma^2 ~ chi-square(n - 1), approximately
  N(n - 1, 2(n - 1)); by the delta method s / sigma ~ N(1, 1 / (2n)), so we require
  |s / sigma - 1| < Z / sqrt(2n) = 0.0100. A std off by 10% is ten times that
  threshold (detected with certainty); so is Xavier with fan_out for fan_in (the
  shapes are not square for that reason).
- Gaussian shape: the sample excess kurtosis g2 of a Gaussian sample has mean 0 and
  standard deviation sqrt(24 / n) = 0.0126, so we require |g2| < Z * 0.0126 = 0.070.
  A uniform draw has excess kurtosis -1.2, 17 thresholds away; the test does not
  depend on the scale, so it judges the shape alone.
The seeds are fixed, so a given submission gets the same verdict on every run.
"""
import numpy as np

from autograder.public.compare import MISCONCEPTION, assert_true, known_mistake, plain_array
from autograder.public.framework import CheckFailed, Suite
from autograder.public.runner import Seed

suite = Suite(hidden=True)
FAN_IN, FAN_OUT = 500, 300
Z = 5.5
N = FAN_IN * FAN_OUT
MEAN_LIMIT = Z / np.sqrt(N)
STD_LIMIT = Z / np.sqrt(2 * N)
KURTOSIS_LIMIT = Z * np.sqrt(24 / N)


SEED = 7


def draw(student, function, *args):
    value = student.call(function, FAN_IN, FAN_OUT, *args, rng=Seed(SEED)).value
    return plain_array(value, f"{function}({FAN_IN}, {FAN_OUT}, ...)", shape=(FAN_IN, FAN_OUT))


def assert_scale(W, sigma, what, ref, function, *args):
    mean, std = W.mean(), W.std()
    assert_true(abs(mean) / sigma < MEAN_LIMIT,
                f"{what} has mean {mean:.3g}; expected 0 (a deviation above {MEAN_LIMIT * sigma:.2g} "
                "happens by chance with probability below 1e-6).")
    if abs(std / sigma - 1) >= STD_LIMIT:
        message = (f"{what} has standard deviation {std:.5g}; expected {sigma:.5g} "
                   f"(within {100 * STD_LIMIT:.1f}%).")
        expected = ref.expect(function, FAN_IN, FAN_OUT, *args, rng=Seed(SEED), pick=lambda W, a: W.std())
        sentence = known_mistake(std, expected, lambda got, wrong: abs(got / float(wrong) - 1) < STD_LIMIT)
        raise CheckFailed(message + (f"\n{MISCONCEPTION}{sentence}" if sentence else ""))


def assert_gaussian(W, what):
    centred = W - W.mean()
    g2 = float(np.mean(centred ** 4) / np.mean(centred ** 2) ** 2 - 3)
    assert_true(abs(g2) < KURTOSIS_LIMIT,
                f"{what} does not look Gaussian: excess kurtosis {g2:.3f}, expected 0 "
                f"(a uniform draw gives -1.2). Use rng.standard_normal (or rng.normal), "
                "not rng.random or rng.uniform.")


@suite.check("zeros_init: non-square shape (fan_in, fan_out), float64 zeros", group="initializers",
             points=1, tags=["zeros_init"])
def zeros_non_square(student, ref):
    W = plain_array(student.call("zeros_init", 5, 2).value, "zeros_init(5, 2)", shape=(5, 2))
    assert_true(W.dtype == np.float64 and not W.any(), "zeros_init(5, 2) should be float64 zeros.")


@suite.check("random initializers: shape, float64, reproducible from rng", group="initializers",
             points=1, tags=["random_init", "xavier_init", "he_init"])
def random_reproducible(student, ref):
    for function, args in (("random_init", (0.5,)), ("xavier_init", ()), ("he_init", ())):
        what = f"{function}(6, 4, ...)"
        first = plain_array(student.call(function, 6, 4, *args, rng=Seed(3)).value, what, shape=(6, 4))
        assert_true(first.dtype == np.float64, f"{what} has dtype {first.dtype}; expected float64.")
        again = plain_array(student.call(function, 6, 4, *args, rng=Seed(3)).value, what, shape=(6, 4))
        other = plain_array(student.call(function, 6, 4, *args, rng=Seed(4)).value, what, shape=(6, 4))
        assert_true(np.array_equal(first, again),
                    f"{what} gave different weights for two generators seeded alike: draw all "
                    "randomness from rng, not from np.random.")
        assert_true(not np.array_equal(first, other),
                    f"{what} gave the same weights for generators with different seeds: use the rng "
                    "argument instead of a generator of your own.")


@suite.check("random_init: mean 0 and the requested std (1e-2 and 1)", group="initializers", points=1,
             tags=["random_init"])
def random_scale(student, ref):
    for std in (1e-2, 1.0):
        assert_scale(draw(student, "random_init", std), std, f"random_init({FAN_IN}, {FAN_OUT}, std={std})",
                     ref, "random_init", std)


@suite.check("random_init: Gaussian draws", group="initializers", points=1, tags=["random_init"])
def random_gaussian(student, ref):
    assert_gaussian(draw(student, "random_init", 1.0), "random_init's sample")


@suite.check("xavier_init: mean 0 and variance 1/fan_in", group="initializers", points=1,
             tags=["xavier_init"])
def xavier_scale(student, ref):
    assert_scale(draw(student, "xavier_init"), 1 / np.sqrt(FAN_IN), f"xavier_init({FAN_IN}, {FAN_OUT})",
                 ref, "xavier_init")


@suite.check("he_init: mean 0 and variance 2/fan_in", group="initializers", points=1, tags=["he_init"])
def he_scale(student, ref):
    assert_scale(draw(student, "he_init"), np.sqrt(2 / FAN_IN), f"he_init({FAN_IN}, {FAN_OUT})",
                 ref, "he_init")


@suite.check("xavier_init and he_init: Gaussian draws", group="initializers", points=1,
             tags=["xavier_init", "he_init"])
def xavier_he_gaussian(student, ref):
    assert_gaussian(draw(student, "xavier_init"), "xavier_init's sample")
    assert_gaussian(draw(student, "he_init"), "he_init's sample")


@suite.check("random initializers: rng=None draws fresh weights", group="initializers", points=1,
             tags=["random_init", "xavier_init", "he_init"])
def random_default_rng(student, ref):
    for function, args in (("random_init", (0.5,)), ("xavier_init", ()), ("he_init", ())):
        what = f"{function}(6, 4) without rng"
        first = plain_array(student.call(function, 6, 4, *args).value, what, shape=(6, 4))
        second = plain_array(student.call(function, 6, 4, *args).value, what, shape=(6, 4))
        assert_true(not np.array_equal(first, second),
                    f"two calls of {what} gave identical weights; with rng=None use a fresh "
                    "np.random.default_rng().")
