"""How the checks judge a layer's functions: every output of a call on its own, and a
backward pass apart from its forward pass. Nothing here knows which normalization is
graded; ``inputs.py`` describes the layers.

- **Each output on its own.** A check judges one output of a call (``out``, a running
  average, ``dx``, ``dgamma`` or ``dbeta``), so one wrong output costs its own checks.
  A known mistake is named only when the call's outputs are all what that mistake
  gives: the outputs it changes, and the reference's elsewhere. Otherwise the
  feedback says what differs, in numbers.
- **A backward pass is right when it computes the right gradient.** Its output passes
  when it equals the reference gradient at that input, whatever the forward pass did.
  Where the student's forward pass differs from the reference, it also passes when it
  is what the reference backward pass gives after the same known mistake of the
  forward pass, or the true gradient of that mistake (centred differences of the
  grader's copy of it), or, for a mistake no catalogue knows, the numeric gradient of
  the student's own forward pass, as long as that forward pass still normalizes (its
  output ignores a shift of each of the layer's means and x doubled; a forward pass
  that does not, x + 1 or x - mean say, has a gradient that teaches little of the
  layer's);
  otherwise the feedback names the forward pass as the likely cause.
- **Shapes apart from values.** Value checks accept the right numbers in a layout
  that differs only by axes of length 1; the shape checks judge the shapes.
- **Nothing for nothing.** A property (shapes, arguments left alone) is credited only
  when the call also gave a real answer.
"""
from dataclasses import dataclass

import numpy as np

from ...compare import (
    MISSING,
    Expected,
    assert_close,
    assert_normalizes,
    assert_not_nothing,
    assert_substantive,
    close,
    fail,
    known_mistake,
    plain_array,
    recognised,
    result_tuple,
    same_layout,
    unchanged_by,
)
from ...framework import CheckFailed, Previous, StudentError, retried_without

GRADIENTS = ("dx", "dgamma", "dbeta")


@dataclass(frozen=True)
class Layer:
    """A forward and a backward student function:
    ``forward(x, gamma, beta, *extra, param) -> (out, cache)`` and
    ``backward(dout, cache) -> (dx, dgamma, dbeta)``. The forward pass reads the dict
    ``param`` (named ``param_name`` in its contract) and stores the keys ``stored`` in it.
    ``shift(case, rng)`` is an array added to x that moves each mean the layer takes by
    a random amount, and nothing else: a normalization's output ignores it."""
    forward: str
    backward: str
    param_name: str
    shift: object
    stored: tuple = ()

    @property
    def outputs(self):
        """The names of the forward pass's judged outputs."""
        return ("out", *self.stored)


@dataclass(frozen=True, eq=False)
class Case:
    """One input of a layer, and ``tried``: the words that describe it to a student."""
    x: np.ndarray
    gamma: np.ndarray
    beta: np.ndarray
    param: dict
    dout: np.ndarray
    tried: str
    extra: tuple = ()

    def with_param(self, param, tried=None):
        """The same input with the param dict ``param`` (and other words)."""
        return Case(self.x, self.gamma, self.beta, param, self.dout, tried or self.tried, self.extra)

    def args(self, **param):
        """The forward pass's arguments, with a fresh copy of ``param`` (updated by ``param``)."""
        return (self.x, self.gamma, self.beta, *self.extra, {**self.param, **param})

    def parameter(self, i):
        return (self.x, self.gamma, self.beta)[i]


def _out(result, args):
    return result[0]


def _stored(key):
    return lambda result, args, key=key: args[-1][key]


def _gradient(i):
    return lambda result, i=i: result[i]


def expect_forward(ref, layer, case, **param):
    """{output: Expected} of the forward pass on ``case`` (asked in a fixed order, as
    the stored answers of the public checks require)."""
    args = case.args(**param)
    return {name: ref.expect(layer.forward, *args, pick=_out if name == "out" else _stored(name))
            for name in layer.outputs}


def expect_gradients(ref, layer, case):
    """[Expected] of dx, dgamma and dbeta after a forward pass on ``case``; their
    alternates also hold what the reference backward gives after each known mistake
    of the forward pass."""
    return [ref.expect_after(layer.forward, case.args(), layer.backward, (case.dout, Previous(1)), pick=_gradient(i))
            for i in range(len(GRADIENTS))]


def call_forward(student, layer, case, **param):
    """The student's forward pass on ``case``: ({output: value}, cache handle, the
    arguments as the call left them). A stored key the call did not store is MISSING."""
    call = student.call(layer.forward, *case.args(**param), keep=[1])
    out, cache = result_tuple(call.value, layer.forward, 2)
    after = call.args[-1]
    got = {"out": out}
    for key in layer.stored:
        got[key] = after.get(key, MISSING) if isinstance(after, dict) else MISSING
    return got, cache, call.args


def runnable(student, layer, case):
    """(the case used, ``call_forward``'s result), a call of the student's forward pass
    that hands a backward pass its cache: on ``case`` as given, or without the stored
    keys (the running averages) when it raises only with them: in train mode they
    change no output and no gradient, and the backward pass is not charged for them
    (their own checks are)."""
    param, got = retried_without(lambda p: call_forward(student, layer, case.with_param(p)), case.param,
                                 layer.stored)
    return case.with_param(param), got


def judge_forward(student, ref, layer, case, name="out", **param):
    """Judge output ``name`` of the forward pass on ``case`` (``param`` changes its
    param dict); return it as a plain array."""
    expected = expect_forward(ref, layer, case, **param)
    got, _, _ = call_forward(student, layer, case, **param)
    return judge(got, expected, name, layer.forward, what=describe(layer, name), tried=case.tried)


def describe(layer, name):
    """An output of the forward pass in a student's words."""
    return f"out of {layer.forward}" if name == "out" else f"{layer.param_name}[{name!r}]"


def judge_forward_shapes(student, ref, layer, case):
    """The shapes of every output of the forward pass on ``case``, credited only with a real ``out``."""
    expected = expect_forward(ref, layer, case)
    got, _, _ = call_forward(student, layer, case)
    assert_real_forward(student, layer, case, got["out"])
    judge_shapes(got, expected, layer.forward, {name: describe(layer, name) for name in got},
                 {name: "x" if name == "out" else "gamma" for name in got})


def judge_gradient_shapes(student, ref, layer, case):
    """The shapes of dx, dgamma and dbeta after a forward pass on ``case``, credited
    only with a real answer among them."""
    expected = dict(zip(GRADIENTS, expect_gradients(ref, layer, case)))
    _, (_, cache, _) = runnable(student, layer, case)
    got = dict(zip(GRADIENTS, result_tuple(student.call(layer.backward, case.dout, cache).value, layer.backward,
                                           len(GRADIENTS))))
    whats = {name: f"{name} of {layer.backward}" for name in GRADIENTS}
    assert_some_answer(list(got.values()), list(whats.values()), case.dout)
    judge_shapes(got, expected, layer.backward, whats, dict(zip(GRADIENTS, ("x", "gamma", "beta"))))


def consistent_mistakes(got, expected, function, rtol=1e-6, atol=1e-8):
    """The ids of the known mistakes of ``function`` that give every output of the
    call what the student's gives: the outputs a mistake changes as it changes them,
    the others as the reference."""
    ids = {a.id for want in expected.values() for a in want.alternates if a.function == function}
    return {mistake for mistake in ids
            if all(_agrees(got[name], want, mistake, rtol, atol) for name, want in expected.items())}


def _agrees(value, expected, mistake, rtol, atol):
    want = _answer(expected, mistake)
    if want is None or want is MISSING:
        return value is want
    return close(value, want, rtol, atol, equal_nan=True)


def narrowed(expected, ids):
    """``expected`` with only the alternates of the mistakes ``ids``."""
    return Expected(expected.value, [a for a in expected.alternates if a.id in ids], expected.function)


def judge(got, expected, name, function, *, what, tried, rtol=1e-6, atol=1e-8):
    """Judge output ``name`` of one call of ``function`` (``got`` and ``expected`` hold
    every output of the call); return it as a plain array."""
    value, want = got[name], expected[name]
    if close(value, want.value, rtol, atol):
        return plain_array(value, what, shape=np.shape(want.value))
    want = narrowed(want, consistent_mistakes(got, expected, function, rtol, atol))
    if value is MISSING:
        _not_stored(name, what, function, want)
    return assert_close(value, want, what=what, tried=tried, rtol=rtol, atol=atol)


def _not_stored(name, what, function, expected):
    fail(f"after the call, {what} is missing: your {function} does not store {name!r}. Store the running "
         "averages back into it in both modes.", f"{name} not stored",
         recognised(expected, lambda wrong: wrong is MISSING))


def judge_shapes(got, expected, function, whats, of):
    """Every output's shape against the contract's. ``whats`` names each output for a
    student, ``of`` says whose shape it must have ("x", "gamma"...). A known mistake
    is named when the shapes of all the outputs are those it gives."""
    for name, want in expected.items():
        if got[name] is MISSING:
            _not_stored(name, whats[name], function, want)
        shape = plain_array(got[name], whats[name], floating=False).shape
        if shape != np.shape(want.value):
            layout = (" It holds the right numbers, in another shape: return them in the contract's."
                      if same_layout(shape, np.shape(want.value)) else "")
            fail(f"{whats[name]} has shape {shape}; {function}'s contract says {np.shape(want.value)}, the shape "
                 f"of {of[name]}.{layout}", f"{whats[name]} has shape {shape}",
                 _shapes_mistake(got, expected, name, function))


def _shapes_mistake(got, expected, name, function):
    """(id, sentence) of the first known mistake of ``function`` that gives every
    output of the call the shape the student's has (output ``name`` included, whose
    shape is wrong, so the mistake changes it)."""
    for alternate in expected[name].alternates:
        answers = {k: _answer(want, alternate.id) for k, want in expected.items()}
        if alternate.function == function and all(
                isinstance(answers[k], np.ndarray) and isinstance(got[k], np.ndarray)
                and answers[k].shape == got[k].shape for k in expected):
            return alternate.id, alternate.sentence
    return None


def _answer(expected, mistake):
    """What ``mistake`` gives for ``expected``'s question (the reference's answer where it changes nothing)."""
    alternate = expected.alternate(mistake)
    return expected.value if alternate is None else alternate.value


def assert_some_answer(values, whats, *inputs):
    """At least one of a call's outputs is a real answer: a plain array that is not
    all zeros, one number repeated, or an input handed back. A property of a call
    (shapes, arguments left alone) that computes nothing earns nothing."""
    reasons = []
    for value, what in zip(values, whats):
        try:
            assert_substantive(plain_array(value, what, floating=False), what, *inputs)
            return
        except CheckFailed as err:
            reasons.append(str(err).split("\n", 1)[0])
    raise CheckFailed("None of the results is an answer yet, and this property is credited only with one: "
                      + " ".join(reasons), cause=reasons[0])


def assert_real_forward(student, layer, case, out):
    """``out`` of the forward pass on ``case`` is a real answer, from a forward pass
    that normalizes (``assert_normalizes``, in train mode on ``case``): a property of
    a forward pass (shapes, defaults, arguments left alone) earns nothing without one."""
    assert_some_answer([out], [describe(layer, "out")], case.x)
    train = {**case.param, "mode": "train"} if "mode" in case.param else case.param

    def out_of(x):
        call = student.call(layer.forward, x, case.gamma, case.beta, *case.extra, dict(train))
        return result_tuple(call.value, layer.forward, 2)[0]
    assert_normalizes(out_of, case.x, describe(layer, "out"))


def assert_same_outputs(student, layer, case, other, names, differs):
    """A property of the student's own forward pass: its outputs ``names`` on ``case``
    equal those on ``other`` (the same input with another param dict), whatever else
    is right or wrong in them. ``differs`` is the sentence for when they do not."""
    first, _, _ = call_forward(student, layer, case)
    assert_real_forward(student, layer, case, first["out"])
    try:
        second, _, _ = call_forward(student, layer, other)
    except StudentError as err:  # the first call ran: the other param dict is what it fails on
        raise StudentError(f"{other.tried}, {err}", err.raised) from None
    for name in names:
        what = describe(layer, name)
        if first[name] is MISSING or second[name] is MISSING:
            _not_stored(name, what, layer.forward, None)
        a, b = (plain_array(value, what, floating=False) for value in (first[name], second[name]))
        if a.shape != b.shape or not np.allclose(a, b, rtol=1e-9, atol=1e-12):
            largest = f" (largest difference {np.abs(a - b).max():.3g})" if a.shape == b.shape else ""
            raise CheckFailed(f"{what} {case.tried} differs from {what} {other.tried}{largest}: {differs}")


def judge_leaves_arguments(student, layer, case):
    """The forward pass on ``case`` leaves x, gamma and beta as they were, in a call
    that gives a real answer."""
    got, _, args = call_forward(student, layer, case)
    assert_real_forward(student, layer, case, got["out"])
    _assert_unchanged(args[:3], (case.x, case.gamma, case.beta), ("x", "gamma", "beta"), layer.forward, case.tried)


def judge_leaves_dout(student, layer, case):
    """The backward pass leaves dout as it was, in a call that gives a real answer."""
    _, (_, cache, _) = runnable(student, layer, case)
    call = student.call(layer.backward, case.dout, cache)
    got = result_tuple(call.value, layer.backward, len(GRADIENTS))
    assert_some_answer(got, [f"{name} of {layer.backward}" for name in GRADIENTS], case.dout)
    _assert_unchanged(call.args[:1], (case.dout,), ("dout",), layer.backward, case.tried)


def _assert_unchanged(after, before, names, function, tried):
    for name, old, new in zip(names, before, after):
        if not (isinstance(new, np.ndarray) and new.shape == old.shape and np.array_equal(new, old)):
            raise CheckFailed(f"{function} modified {name} in place ({tried}); compute new arrays instead "
                              "(x - mu, not x -= mu).", cause=f"{function} modifies {name}")


def judge_gradient(student, ref, layer, cases, name):
    """Judge gradient ``name`` ("dx", "dgamma" or "dbeta") of ``layer``'s backward pass
    on ``cases``, apart from its forward pass (see the module's docstring). A case on
    which the forward pass gives no usable output (NaN, say), and the gradient not the
    reference's, cannot judge the backward pass and is left out, as long as another
    one can. Returns a note when the backward pass was judged against the student's
    own forward pass."""
    i = GRADIENTS.index(name)
    what = f"{name} of {layer.backward}"
    note, judged, unusable = None, 0, None
    for case in cases:
        reference_out = ref.expect(layer.forward, *case.args(), pick=_out)
        expected = expect_gradients(ref, layer, case)
        probes = _probes(ref, layer, case, i)
        case, (got_out, cache, _) = runnable(student, layer, case)  # the reference was asked about it as given
        got = result_tuple(student.call(layer.backward, case.dout, cache).value, layer.backward, len(GRADIENTS))
        if close(got[i], expected[i].value, rtol=1e-5):
            judged += 1
            continue
        try:
            out = plain_array(got_out["out"], f"out of {layer.forward}", shape=case.x.shape)
        except CheckFailed as err:
            assert_not_nothing(got[i], what, case.dout)
            unusable = err
            continue
        judged += 1
        if close(out, reference_out.value):  # the forward pass is right: the reference gradient decides
            ids = consistent_mistakes(dict(zip(GRADIENTS, got)), dict(zip(GRADIENTS, expected)), layer.backward, 1e-5)
            assert_close(got[i], narrowed(expected[i], ids), what=what, tried=case.tried, rtol=1e-5)
        gradient = plain_array(got[i], what, shape=np.shape(expected[i].value))
        mistake = known_mistake(out, reference_out)
        if mistake:
            after = expected[i].alternate(mistake[0])
            if not (after is not None and close(gradient, after.value, rtol=1e-5)
                    or _gradient_of(mistake[0], gradient, probes, case.dout)):
                raise CheckFailed(
                    f"{what} is wrong {case.tried}. Your {layer.forward} gives there what a known mistake gives (its "
                    f"own checks say which), and {name} is neither the reference gradient, nor the gradient of that "
                    "forward pass, nor what the reference backward pass computes from its cache. The likely cause "
                    "is the forward pass: make it right first, then check the backward pass again.",
                    cause=f"{layer.forward} makes a known mistake")
        elif _normalizes(student, layer, case, out):
            _OwnForward(student, layer, case, out, i).judge(gradient, expected[i].value, what)
        else:
            raise CheckFailed(
                f"{what} is wrong {case.tried}. Your {layer.forward} gives another output than the reference there, "
                "and one that changes when the mean of each group the layer normalizes moves or when x is doubled, "
                "so it does not normalize them and your gradient cannot be judged against it: the likely cause is "
                "the forward pass. Make it right first, then check the backward pass again.",
                cause=f"{layer.forward} does not normalize")
        note = (f"Your {layer.forward} differs from the reference, so {layer.backward} was judged against your own "
                "forward pass.")
    if not judged:
        raise CheckFailed(f"{what} could not be judged: its cache comes from {layer.forward}, which gave no usable "
                          f"output here ({str(unusable).rstrip('.')}).", cause=unusable.cause,
                          misconception=unusable.misconception)
    return note


# Centred differences of the forward passes along random directions: the step, how
# many directions, and how closely a gradient must agree with them.
STEP = 1e-5
DIRECTIONS = 2
TOLERANCE = 1e-5


def _directions(case, i):
    """Random unit directions of parameter i of ``case``, the same on every run."""
    rng = np.random.default_rng([i, *case.x.shape])
    for _ in range(DIRECTIONS):
        u = rng.standard_normal(np.shape(case.parameter(i)))
        yield u / np.linalg.norm(u)


def _probes(ref, layer, case, i):
    """[(u, Expected a step ahead along u, Expected a step behind)]: the reference's
    forward pass, and every known mistake's, around ``case`` along random directions
    of parameter i (asked for every case, in a fixed order, as the stored answers of
    the public checks require)."""
    probes = []
    for u in _directions(case, i):
        around = []
        for sign in (1, -1):
            params = [case.x, case.gamma, case.beta]
            params[i] = params[i] + sign * STEP * u
            around.append(ref.expect(layer.forward, *params, *case.extra, dict(case.param), pick=_out))
        probes.append((u, *around))
    return probes


def _gradient_of(mistake, gradient, probes, dout):
    """Whether ``gradient`` is the gradient of the known mistake's forward pass, along
    every probe: the outputs come from the grader's copy of the mistake, never from
    the student's code, so no forward pass can bend them."""
    size = max(np.linalg.norm(gradient), 1e-3 * np.linalg.norm(dout))
    for u, ahead, behind in probes:
        ahead, behind = _answer(ahead, mistake), _answer(behind, mistake)
        if not all(isinstance(a, np.ndarray) and np.all(np.isfinite(a)) for a in (ahead, behind)):
            return False
        numeric = float(np.sum((ahead - behind) * dout)) / (2 * STEP)
        exact = float(np.sum(gradient * u.reshape(gradient.shape)))
        if not abs(numeric - exact) < TOLERANCE * max(abs(numeric), abs(exact), 1e-4 * size):
            return False
    return True


def _normalizes(student, layer, case, out):
    """Whether the student's forward pass still normalizes on ``case``: its output
    ``out`` stays the same when each mean the layer takes moves (``layer.shift``), and
    when all of x is doubled (up to what eps changes then): it centres and it scales."""
    def out_of(x):
        call = student.call(layer.forward, x, case.gamma, case.beta, *case.extra, dict(case.param))
        return result_tuple(call.value, layer.forward, 2)[0]
    shift = layer.shift(case, np.random.default_rng([7, *case.x.shape]))
    return unchanged_by(out_of, out, [(case.x + shift, 1e-6), (2.0 * case.x, 1e-3)])


class _OwnForward:
    """Numeric gradients of the student's own forward pass along random directions,
    from probes that must behave like the direct call: the same input gives the same
    output, and the probes around an input average to its output. The gradient must
    also not be near zero where the reference's is not, which a forward pass that
    answers its probes with its last output would otherwise explain. (A forward pass
    that keeps a model of its probes can still answer them with any gradient; README's
    scoring section says what that leaves open.)"""
    FLOOR = 1e-3  # the smallest size, relative to the reference gradient's, a gradient may have

    def __init__(self, student, layer, case, out, i):
        self.student, self.layer, self.case, self.out, self.i = student, layer, case, out, i
        if not np.array_equal(self._out(case.parameter(i)), out):
            raise CheckFailed(f"{layer.forward} gave two different outputs for the same input; a forward pass must "
                              "be a function of its arguments alone.", cause=f"{layer.forward} not a function")

    def _out(self, value):
        """The student's output with parameter i replaced by ``value``."""
        case = self.case
        params = [case.x, case.gamma, case.beta]
        params[self.i] = value
        call = self.student.call(self.layer.forward, *params, *case.extra, dict(case.param), keep=[1])
        out, _ = result_tuple(call.value, self.layer.forward, 2)
        return plain_array(out, f"out of {self.layer.forward}", shape=case.x.shape)

    def judge(self, analytic, reference, what):
        reference = np.asarray(reference, dtype=np.float64).reshape(analytic.shape)
        size = max(np.linalg.norm(reference), 1e-3 * np.linalg.norm(self.case.dout))
        if np.linalg.norm(analytic) < self.FLOOR * size and np.linalg.norm(analytic - reference) > 0.5 * size:
            raise CheckFailed(f"{what} is wrong {self.case.tried}: it is almost zero ({np.linalg.norm(analytic):.2g} "
                              f"against {np.linalg.norm(reference):.2g} for the reference gradient), which the way "
                              f"your {self.layer.forward} differs from the reference does not explain.")
        scale = np.abs(self.out).max() + 1.0
        point = self.case.parameter(self.i)
        for u in _directions(self.case, self.i):
            plus, minus = (self._out(point + sign * STEP * u) for sign in (1, -1))
            if np.abs((plus + minus) / 2 - self.out).max() > 1e-6 * scale:
                raise CheckFailed(f"{self.layer.forward}'s output jumps when its input moves by {STEP:g}; the "
                                  "numeric gradient of such a forward pass is meaningless, so your backward pass "
                                  "could not be judged against it.", cause=f"{self.layer.forward} not smooth")
            numeric = float(np.sum((plus - minus) * self.case.dout)) / (2 * STEP)
            exact = float(np.sum(analytic * u.reshape(analytic.shape)))
            error = abs(numeric - exact) / max(abs(numeric), abs(exact), 1e-4 * size)
            if not error < TOLERANCE:
                raise CheckFailed(
                    f"{what} is wrong {self.case.tried}: your {self.layer.forward} differs from the reference there, "
                    f"so {what.split(' ')[0]} was judged against the numeric gradient of your own forward pass, and "
                    f"it disagrees along a random direction (relative error {error:.2e}, expected below "
                    f"{TOLERANCE:g}). The likely cause is the forward pass: make it right first, then check the "
                    "backward pass again.")
