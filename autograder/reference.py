"""Expected answers from the reference solution, and the answers known mistakes give.

The reference is the assignment's master, ``assignment/NAME/`` (its solution markers
are comments, so it runs as it is). It is trusted code and runs in the
grading process; student code never does.
"""
import copy
import importlib.util
import json
import threading
import types
import warnings

import numpy as np

from .kit.compare import MISSING, Alternate, Expected
from .kit.framework import Previous
from .kit.runner import Seed
from .kit.stored import expected_to_json
from .misconceptions import apply

_WARNINGS_LOCK = threading.Lock()


def module_from_source(name, source, path):
    """A module made from ``source`` as if it were the file ``path``."""
    spec = importlib.util.spec_from_loader(name, loader=None, origin=str(path))
    module = importlib.util.module_from_spec(spec)
    exec(compile(source, str(path), "exec"), module.__dict__)
    return module


def _realize(value):
    """Arguments as the student's code receives them (a Seed becomes a Generator)."""
    if isinstance(value, Seed):
        return np.random.default_rng(value.seed)
    if isinstance(value, (list, tuple)):
        return type(value)(_realize(v) for v in value)
    if isinstance(value, dict):
        return {k: _realize(v) for k, v in value.items()}
    return copy.deepcopy(value)


class LiveReference:
    """Runs the reference and every catalogued mistake of the function asked about.

    An answer depends only on the question (the function, the arguments' values and
    the pick), never on the submission, so each is computed once per process and
    shared by every submission graded there; and the mistakes run only when a check
    first asks for them (a right answer never does)."""

    def __init__(self, graded, memo_size=1024):
        self.functions = graded.spec.functions
        master = graded.master
        sources = {m: (master / f"{m}.py").read_text() for m in set(self.functions.values())}
        self.modules = {m: module_from_source(f"_reference_{m}", s, master / f"{m}.py")
                        for m, s in sources.items()}
        self.mistakes = []
        for mistake in graded.catalogue:
            module = self.functions[mistake.function]
            self.mistakes.append((mistake, module_from_source(f"_mistake_{mistake.id}",
                                                              apply(mistake, sources[module], module),
                                                              master / f"{module}.py")))
        self.memo_size = memo_size
        # question -> Answer, least recently used first. A class adds a few questions
        # per submission (inputs made from a student's own answers): the bound keeps
        # memory flat; the questions every submission asks stay in use.
        self._answers = {}
        self._lock = threading.Lock()

    def for_check(self, name):
        return self

    def expect(self, function, *args, pick=None, **kwargs):
        def made_from(args, kwargs):
            def run(module):
                realized = _realize(args)
                result = getattr(module, function)(*realized, **_realize(kwargs))
                return pick(result, realized) if pick else result
            return run
        return self._answer(("expect", function, args, kwargs, pick), function, {function},
                            lambda: made_from(*copy.deepcopy((args, kwargs))))

    def expect_after(self, first, first_args, function, args, pick=None):
        """``pick`` of ``function(*args)`` called after ``first(*first_args)``, where a
        ``Previous(i)`` in ``args`` stands for item i of what ``first`` returned (a
        backward pass after the forward that made its cache). Besides the mistakes of
        ``function``, the alternates hold what it gives after each known mistake of
        ``first``."""
        def made_from(first_args, args):
            def run(module):
                made = getattr(module, first)(*_realize(first_args))
                result = getattr(module, function)(*(made[a.index] if isinstance(a, Previous) else _realize(a)
                                                     for a in args))
                return pick(result) if pick else result
            return run
        return self._answer(("after", first, first_args, function, args, pick), function, {function, first},
                            lambda: made_from(*copy.deepcopy((first_args, args))))

    def _answer(self, question, function, functions, made):
        """The answer to ``question``: kept from an earlier asking, or computed by the
        ``run`` that ``made()`` builds on a copy of the arguments (the mistakes may run
        later, after the check changed its arrays)."""
        try:
            key = question_key(question)
        except TypeError:  # a value that cannot be told apart by its contents: not kept
            key = None
        with self._lock:
            found = self._answers.pop(key, None) if key is not None else None
            if found is not None:
                self._answers[key] = found  # now the most recently used
                return found
        run = made()
        value = _frozen(np.asarray(run(self.modules[self.functions[function]])))
        answer = Answer(value, function, lambda: self._compare_with_mistakes(value, run, functions))
        if key is None:
            return answer
        with self._lock:
            if key not in self._answers and len(self._answers) >= self.memo_size:
                del self._answers[next(iter(self._answers))]
            return self._answers.setdefault(key, answer)

    def _compare_with_mistakes(self, value, run, functions):
        alternates = []
        for mistake, module in self.mistakes:
            if mistake.function not in functions:
                continue
            try:
                # catch_warnings changes process-wide state: one thread at a time.
                with _WARNINGS_LOCK, warnings.catch_warnings(), np.errstate(all="ignore"):
                    warnings.simplefilter("ignore")
                    wrong = run(module)
                    if wrong is not None:
                        wrong = _frozen(np.asarray(wrong))
                        if wrong.shape == value.shape and np.allclose(wrong, value, rtol=1e-6, atol=1e-8):
                            continue
            except KeyError:  # the mistake never stores the value asked for
                wrong = MISSING
            except Exception:  # a mistake that cannot even run on these inputs matches nothing
                continue
            alternates.append(Alternate(mistake.id, mistake.function, mistake.sentence, wrong))
        return alternates


class Answer(Expected):
    """An Expected whose alternates are computed by ``alternates_of()`` when first
    asked for, once, even when several threads share it."""

    def __init__(self, value, function, alternates_of):
        self.value, self.function = value, function
        self._alternates_of, self._alternates = alternates_of, None
        self._lock = threading.Lock()

    @property
    def alternates(self):
        with self._lock:
            if self._alternates is None:
                self._alternates, self._alternates_of = self._alternates_of(), None
            return self._alternates


def _frozen(array):
    """``array`` made read-only: an answer is shared by every submission, so no check may change it."""
    array.flags.writeable = False
    return array


def question_key(value):
    """A hashable key equal for equal questions: arrays by dtype, shape and bytes,
    floats by their exact repr (-0.0 is not 0.0), a pick by where it is defined, its
    code, defaults and closure (a pick reads no global that changes between
    submissions). TypeError for anything else."""
    kind = type(value)
    if value is None or kind in (bool, int, str):
        return kind.__name__, value
    if kind is float:
        return "float", repr(value)
    if isinstance(value, (np.ndarray, np.generic)):
        array = np.asarray(value)
        if array.dtype.hasobject:
            raise TypeError("an array of objects")
        return "array", kind.__name__, array.dtype.str, array.shape, array.tobytes()
    if kind in (tuple, list):
        return kind.__name__, tuple(question_key(v) for v in value)
    if kind is dict:
        return "dict", tuple((question_key(k), question_key(v)) for k, v in value.items())
    if kind is Seed:
        return "seed", question_key(value.seed)
    if kind is Previous:
        return "previous", value.index
    if kind is types.FunctionType:
        cells = tuple(question_key(c.cell_contents) for c in value.__closure__ or ())
        return ("function", value.__module__, value.__qualname__, value.__code__, question_key(value.__defaults__),
                question_key(value.__kwdefaults__), cells)
    raise TypeError(f"no key for a {kind.__name__}")


class RecordingReference:
    """A LiveReference that records every answer, to store the public checks' answers."""

    def __init__(self, live):
        self.live, self.answers = live, {}

    def for_check(self, name):
        recorded = self.answers.setdefault(name, [])
        live = self.live

        class _Recorder:
            def expect(self, *args, **kwargs):
                return self._record(live.expect(*args, **kwargs))

            def expect_after(self, *args, **kwargs):
                return self._record(live.expect_after(*args, **kwargs))

            def _record(self, expected):
                recorded.append(expected_to_json(expected))
                return expected
        return _Recorder()

    def dumps(self):
        return json.dumps(self.answers, indent=1, sort_keys=True) + "\n"
