"""Comparisons that explain themselves: each failure says what was tried, what was
expected, what came back and, when the wrong answer is one a known mistake gives,
which misconception it points to."""
from dataclasses import dataclass, field

import numpy as np

from .framework import CheckFailed
from .runner.wire import Opaque, SubclassArray

MISCONCEPTION = "Likely misconception: "  # the class report counts the sentences after it


@dataclass
class Expected:
    """The right answer, and the answers that known mistakes give instead."""
    value: object
    alternates: list = field(default_factory=list)  # (sentence, value) pairs


def show(a, limit=6):
    a = np.asarray(a)
    flat = a.ravel()
    body = np.array2string(flat[:limit], precision=5, separator=", ", suppress_small=False)
    more = f" ... ({flat.size} values)" if flat.size > limit else ""
    return f"{body[:-1]}{more}]" if flat.size > limit else body


def plain_array(got, what, *, shape=None, floating=True):
    """The student's value as a plain ndarray, or a CheckFailed saying why not."""
    if isinstance(got, SubclassArray):
        raise CheckFailed(f"{what} is a {got.type_name}, a subclass of numpy.ndarray; return a plain "
                          "numpy array (np.asarray does not strip subclasses, np.array(..., subok=False) does).")
    if isinstance(got, Opaque) or not isinstance(got, np.ndarray):
        kind = got.type_name if isinstance(got, Opaque) else type(got).__name__
        raise CheckFailed(f"{what} should be a numpy array, but it is a {kind}.")
    if shape is not None and got.shape != tuple(shape):
        raise CheckFailed(f"{what} has shape {got.shape}; expected {tuple(shape)}.")
    if floating and got.dtype.kind != "f":
        raise CheckFailed(f"{what} has dtype {got.dtype}; expected a floating-point array.")
    if got.dtype.kind in "fc" and not np.all(np.isfinite(got)):
        bad = np.argwhere(~np.isfinite(got))[0]
        raise CheckFailed(f"{what} holds NaN or inf (first at index {tuple(int(i) for i in bad)}); "
                          "look for a division by zero or the square root of a negative number.")
    return got


def _close(got, want, rtol, atol):
    return got.shape == want.shape and np.allclose(got, want, rtol=rtol, atol=atol)


def assert_close(got, expected, *, what, tried, rtol=1e-6, atol=1e-8, hint=""):
    """Compare the student's array with the expected one (an Expected or an array).

    ``what`` names the value ("out of batchnorm_forward"), ``tried`` describes the
    inputs in words, never in code."""
    if not isinstance(expected, Expected):
        expected = Expected(expected)
    want = np.asarray(expected.value)
    got = plain_array(got, what, shape=want.shape, floating=want.dtype.kind == "f")
    if _close(got, want, rtol, atol):
        return
    diff = np.abs(got.astype(np.float64) - want)
    worst = np.unravel_index(np.argmax(diff), diff.shape) if diff.ndim else ()
    lines = [f"{what} is wrong {tried}.",
             f"  expected: {show(want)}",
             f"  got:      {show(got)}",
             f"  largest difference {diff.max():.3g} at index {tuple(int(i) for i in worst)}."]
    sentence = known_mistake(got, expected, lambda got, wrong: _close(got, np.asarray(wrong), rtol, atol))
    if sentence:
        lines.append(MISCONCEPTION + sentence)
    elif hint:
        lines.append(hint)
    raise CheckFailed("\n".join(lines))


def known_mistake(got, expected, matches):
    """The sentence of the first known mistake whose answer ``matches`` ``got``, or None."""
    return next((sentence for sentence, wrong in expected.alternates if matches(got, wrong)), None)


def assert_true(condition, message):
    if not condition:
        raise CheckFailed(message)


def result_tuple(value, function, length):
    """The student's return value as a tuple of ``length`` items."""
    if not isinstance(value, (tuple, list)) or len(value) != length:
        kind = type(value).__name__ if not isinstance(value, (tuple, list)) else f"{len(value)} items"
        raise CheckFailed(f"{function} should return a tuple of {length} items; it returned {kind}.")
    return tuple(value)
