"""Comparisons that explain themselves: each failure says what was tried, what was
expected, what came back and, when the wrong answers are the ones a known mistake
gives, which misconception it points to.

A value is judged apart from its shape: an array that holds the right numbers in a
layout that differs only by axes of length 1 (``(1, D)`` for ``(D,)``) passes a value
check, and only the check of that output's shape (``assert_shape``) fails.

A function may return several outputs (a forward pass's output and running
averages, a backward pass's three gradients). Each is judged by a check of its own,
but a known mistake is named only when the call's answers are that mistake's on
every output: ``call`` lists the call's other outputs as ``(got, Expected)`` pairs,
and a mistake that changes one of them must have changed it the way the student's
code did, while the outputs it leaves alone must be right.
"""
from dataclasses import dataclass, field

import numpy as np

from .framework import CheckFailed
from .runner.wire import Opaque, SubclassArray

MISCONCEPTION = "Likely misconception: "
NUMBERS = "biufc"  # the dtype kinds that are numbers


class Missing:
    """What a known mistake gives for a value it never stores (a key absent from a dict)."""

    def __repr__(self):
        return "MISSING"


MISSING = Missing()


@dataclass(frozen=True)
class Alternate:
    """The answer a known mistake (catalogue ``id``, a mistake of ``function``) gives."""
    id: str
    function: str
    sentence: str
    value: object  # an ndarray, None (the mistake returns nothing) or MISSING


@dataclass
class Expected:
    """The right answer to one question about ``function``, and the answers known
    mistakes give instead."""
    value: object
    alternates: list = field(default_factory=list)
    function: str = ""

    def alternate(self, mistake_id):
        return next((a for a in self.alternates if a.id == mistake_id), None)


def show(a, limit=6):
    a = np.asarray(a)
    flat = a.ravel()
    body = np.array2string(flat[:limit], precision=5, separator=", ", suppress_small=False)
    more = f" ... ({flat.size} values)" if flat.size > limit else ""
    return f"{body[:-1]}{more}]" if flat.size > limit else body


def same_layout(shape, target):
    """Whether ``shape`` holds as many numbers as ``target`` in the same order,
    differing only by axes of length 1."""
    return tuple(n for n in shape if n != 1) == tuple(n for n in target if n != 1)


def plain_array(got, what, *, shape=None, floating=True, expected=None, call=()):
    """The student's value as a plain ndarray of ``shape`` (or the same numbers in a
    layout that differs only by axes of length 1), or a CheckFailed saying why not.
    ``expected`` (with the ``call``'s other outputs) lets a known mistake that returns
    no array be recognised."""
    if isinstance(got, SubclassArray):
        raise CheckFailed(f"{what} is a {got.type_name}, a subclass of numpy.ndarray; return a plain "
                          "numpy array (np.asarray does not strip subclasses, np.array(..., subok=False) does).",
                          cause=f"{what} subclass")
    if isinstance(got, Opaque) or not isinstance(got, np.ndarray):
        kind = got.type_name if isinstance(got, Opaque) else type(got).__name__
        fail(f"{what} should be a numpy array, but it is a {kind}.", f"{what} is a {kind}",
             recognised(expected, lambda wrong: wrong is None and got is None, call))
    if shape is not None and got.shape != tuple(shape):
        if not same_layout(got.shape, shape):
            more = (f" It has more axes than that: an array with more axes than the inputs (a parameter given "
                    f"axes of its own, or a reshaped view not reshaped back) broadcast it to {got.ndim} axes."
                    if got.ndim > len(shape) else "")
            raise CheckFailed(f"{what} has shape {got.shape}; expected {tuple(shape)}.{more}",
                              cause=f"{what} has the wrong shape")
        got = got.reshape(shape)
    if floating and got.dtype.kind != "f":
        raise CheckFailed(f"{what} has dtype {got.dtype}; expected a floating-point array.",
                          cause=f"{what} has dtype {got.dtype}")
    if got.dtype.kind in "fc" and not np.all(np.isfinite(got)):
        bad = np.argwhere(~np.isfinite(got))[0]
        fail(f"{what} holds NaN or inf (first at index {tuple(int(i) for i in bad)}); look for a division by "
             "zero or the square root of a negative number.", f"{what} holds NaN",
             recognised(expected, lambda wrong: close(got, wrong, equal_nan=True), call))
    return got


def assert_shape(got, expected, *, what, function, call=()):
    """The shape contract of one output, judged on its own: a value of the right
    numbers in the wrong layout fails here, and only here."""
    want = np.shape(expected.value if isinstance(expected, Expected) else expected)
    got = plain_array(got, what, floating=False, expected=expected, call=call)
    if got.shape != want:
        mistake = recognised(expected, lambda wrong: isinstance(wrong, np.ndarray) and wrong.shape == got.shape,
                             call)
        layout = (" It holds the right number of values: keep the shape of the contract, e.g. sum or average "
                  "over axis 0 without keepdims=True." if same_layout(got.shape, want) else "")
        fail(f"{what} has shape {got.shape}; {function}'s contract says {want}.{layout}",
             f"{what} has the wrong shape", mistake)
    return got


def fail(sentence, cause, mistake):
    """Raise CheckFailed with ``sentence`` and, for a recognised ``mistake`` (id, sentence), its misconception."""
    raise CheckFailed(sentence + (f"\n{MISCONCEPTION}{mistake[1]}" if mistake else ""), cause=cause,
                      misconception=mistake)


def recognised(expected, matches, call=()):
    """(id, sentence) of the first known mistake of the checked function whose answer
    ``matches`` and whose answers on the ``call``'s other outputs are the student's."""
    if not isinstance(expected, Expected):
        return None
    return next(((a.id, a.sentence) for a in expected.alternates
                 if a.function == expected.function and matches(a.value) and consistent(a.id, call)), None)


def consistent(mistake_id, call):
    """Whether every ``(got, Expected)`` of ``call`` is what the mistake gives there:
    its own answer where it changes that output, the right one where it does not."""
    for got, expected in call:
        alternate = expected.alternate(mistake_id) if isinstance(expected, Expected) else None
        want = alternate.value if alternate else getattr(expected, "value", expected)
        if not (got is want if want is None or want is MISSING else close(got, want, 1e-5, equal_nan=True)):
            return False
    return True


def close(got, want, rtol=1e-6, atol=1e-8, equal_nan=False):
    """Whether ``got`` is an array of the numbers of ``want``, in a layout that differs
    only by axes of length 1 (False for anything that is not numbers: None, MISSING...)."""
    want = np.asarray(want)
    return (isinstance(got, np.ndarray) and got.dtype.kind in NUMBERS and want.dtype.kind in NUMBERS
            and same_layout(got.shape, want.shape)
            and np.allclose(got.reshape(want.shape), want, rtol=rtol, atol=atol, equal_nan=equal_nan))


def assert_close(got, expected, *, what, tried, rtol=1e-6, atol=1e-8, hint="", call=()):
    """Compare the student's array with the expected one (an Expected or an array).

    ``what`` names the value ("out of batchnorm_forward"), ``tried`` describes the
    inputs in words, never in code; ``hint`` says in words what differs when no known
    mistake explains it; ``call`` holds the call's other outputs (see above)."""
    if not isinstance(expected, Expected):
        expected = Expected(expected)
    want = np.asarray(expected.value)
    got = plain_array(got, what, shape=want.shape, floating=want.dtype.kind == "f", expected=expected, call=call)
    if close(got, want, rtol, atol):
        return got
    diff = np.abs(got.astype(np.float64) - want)
    worst = np.unravel_index(np.argmax(diff), diff.shape) if diff.ndim else ()
    at = tuple(int(i) for i in worst)
    lines = [f"{what} is wrong {tried}.",
             f"  expected: {show(want)}",
             f"  got:      {show(got)}",
             f"  largest difference {diff.max():.3g} at index {at} (expected {float(want[worst]):.10g}, got "
             f"{float(got[worst]):.10g})."]
    mistake = known_mistake(got, expected, rtol, atol, call)
    if mistake:
        lines.append(MISCONCEPTION + mistake[1])
    elif hint:
        lines.append(hint)
    elif np.all(np.isfinite(diff)) and diff.max() <= 1e-3 * (np.abs(want).max() + 1e-12):
        lines.append("Your numbers agree with the expected ones to about "
                     f"{int(-np.log10(diff.max() / (np.abs(want).max() + 1e-12)))} significant digits, so the "
                     "difference is small: look for a small term (where eps goes, or whether it is there) or a "
                     "lower precision (float32).")
    raise CheckFailed("\n".join(lines), misconception=mistake)


def known_mistake(got, expected, rtol=1e-6, atol=1e-8, call=()):
    """(id, sentence) of the known mistake whose answers ``got`` (and the ``call``'s
    other outputs) match, or None."""
    return recognised(expected, lambda wrong: close(got, wrong, rtol, atol), call)


def assert_true(condition, message):
    if not condition:
        raise CheckFailed(message)


def assert_substantive(value, what, *inputs):
    """Code that does nothing earns nothing: a result that is all zeros, one number
    repeated, or one of the inputs handed back unchanged, is not an answer (the checks'
    inputs are random, so no real answer is any of these)."""
    if not value.any():
        raise CheckFailed(f"{what} is all zeros; it has not been computed yet.", cause=f"{what} is all zeros")
    if value.size > 1 and np.all(value == value.flat[0]):
        raise CheckFailed(f"{what} holds one number repeated; it has not been computed yet.",
                          cause=f"{what} is constant")
    if any(np.shape(a) == value.shape and np.array_equal(a, value) for a in inputs):
        raise CheckFailed(f"{what} is its input returned unchanged; it has not been computed yet.",
                          cause=f"{what} is its input")


def assert_not_nothing(value, what, *inputs):
    """A result that is no array, or all zeros, one number repeated or an input handed
    back, is its function's own non-answer, whatever came before it; one that holds
    NaN or inf may come from its inputs, and is left to the caller."""
    if not (isinstance(value, np.ndarray) and value.dtype.kind in NUMBERS and not np.all(np.isfinite(value))):
        assert_substantive(plain_array(value, what, floating=False), what, *inputs)


def unchanged_by(out_of, out, moves):
    """Whether ``out_of(x)`` gives ``out`` again for every (x, tolerance) of ``moves``,
    within that tolerance relative to out's size; an answer that is no array of out's
    shape is a change."""
    scale = np.abs(out).max() + 1.0
    for x, tolerance in moves:
        try:
            moved = plain_array(out_of(x), "", shape=np.shape(out))
        except CheckFailed:
            return False
        if not np.abs(moved - out).max() <= tolerance * scale:
            return False
    return True


def assert_normalizes(out_of, x, what):
    """Code that does nothing earns nothing, for a normalization layer: its output
    ignores a constant added to all of x, or all of x doubled (whatever it pools, it
    centres or it scales), which x + 1, gamma * x + beta or any other elementwise
    function of x does not. ``out_of(x)`` is the student's output for another x."""
    out = out_of(x)
    if not any(close(out_of(moved), out, rtol=1e-3, atol=1e-6) for moved in (x + 3.0, 2.0 * x)):
        raise CheckFailed(f"{what} changes both when a constant is added to all of x and when x is doubled, which no "
                          "normalization does (it subtracts a mean or divides by a spread), so what the forward "
                          "leaves alone earns nothing yet.", cause=f"{what} does not normalize")


def result_tuple(value, function, length):
    """The student's return value as a tuple of ``length`` items."""
    if not isinstance(value, (tuple, list)) or len(value) != length:
        kind = type(value).__name__ if not isinstance(value, (tuple, list)) else f"{len(value)} items"
        raise CheckFailed(f"{function} should return a tuple of {length} items; it returned {kind}.",
                          cause=f"{function} returned {kind}")
    return tuple(value)
