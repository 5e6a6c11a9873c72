"""Statistical tests of the initializers' draws, shared by the public and hidden checks.

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
The public Xavier check draws 400 x 300 values instead, with the limits computed
the same way from its n. The seeds are fixed, so a given submission gets the same
verdict on every run; a wrong scale that a known mistake gives (Xavier or He with
fan_out, say) is named, since its draw from the same seed has that very std.
"""

import numpy as np

from ...compare import assert_true, fail, known_mistake, plain_array
from ...runner import Seed

FAN_IN, FAN_OUT = 500, 300
Z = 5.5
N = FAN_IN * FAN_OUT
KURTOSIS_LIMIT = Z * np.sqrt(24 / N)
SEED = 7


def draw(student, function, *args):
    value = student.call(function, FAN_IN, FAN_OUT, *args, rng=Seed(SEED)).value
    return plain_array(value, f"{function}({FAN_IN}, {FAN_OUT}, ...)", shape=(FAN_IN, FAN_OUT))


def _std(W, args):
    return W.std()


def assert_scale(W, sigma, what, ref, function, *args, fan=(FAN_IN, FAN_OUT), seed=SEED):
    """W, drawn as ``function(*fan, *args, rng=Seed(seed))``, has mean 0 and standard
    deviation ``sigma``; a wrong scale that a known mistake gives names it."""
    mean, std = W.mean(), W.std()
    n = W.size
    assert_true(abs(mean) / sigma < Z / np.sqrt(n),
                f"{what} has mean {mean:.3g}; expected 0 (a deviation above {Z / np.sqrt(n) * sigma:.2g} "
                "happens by chance with probability below 1e-6).")
    expected = ref.expect(function, *fan, *args, rng=Seed(seed), pick=_std)
    limit = Z / np.sqrt(2 * n)
    if abs(std / sigma - 1) >= limit:
        message = f"{what} has standard deviation {std:.5g}; expected {sigma:.5g} (within {100 * limit:.1f}%)."
        fail(message, None, known_mistake(np.asarray(std), expected, rtol=limit, atol=0))


def assert_gaussian(W, what):
    # Squared in place (a draw is 150,000 values): centred ** 4 takes fifty times as long.
    centred = W - W.mean()
    squares = np.square(centred, out=centred)
    variance = squares.mean()
    g2 = float(np.square(squares, out=squares).mean() / variance ** 2 - 3)
    assert_true(abs(g2) < KURTOSIS_LIMIT,
                f"{what} does not look Gaussian: excess kurtosis {g2:.3f}, expected 0 "
                f"(a uniform draw gives -1.2). Use rng.standard_normal (or rng.normal), "
                "not rng.random or rng.uniform.")


def assert_reproducible(student, function, *args):
    """Weights drawn from ``rng`` alone: equal for generators seeded alike, different
    for other seeds, float64 of shape (fan_in, fan_out)."""
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


def assert_fresh_without_rng(student, function, *args):
    what = f"{function}(6, 4) without rng"
    first = plain_array(student.call(function, 6, 4, *args).value, what, shape=(6, 4))
    second = plain_array(student.call(function, 6, 4, *args).value, what, shape=(6, 4))
    assert_true(not np.array_equal(first, second),
                f"two calls of {what} gave identical weights; with rng=None use a fresh "
                "np.random.default_rng().")
