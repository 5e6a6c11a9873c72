"""Expected answers from the reference solution, and the answers known mistakes give.

The reference is the assignment's master, ``assignment/NAME/`` (its solution markers
are comments, so it runs as it is). It is trusted code and runs in the
grading process; student code never does.
"""
import copy
import importlib.util
import json
import threading
import warnings

import numpy as np

from .kit.compare import MISSING, Alternate, Expected
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
    """Runs the reference and every catalogued mistake of the function asked about."""

    def __init__(self, graded):
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

    def for_check(self, name):
        return self

    def expect(self, function, *args, pick=None, **kwargs):
        def run(module):
            realized = _realize(args)
            result = getattr(module, function)(*realized, **_realize(kwargs))
            return pick(result, realized) if pick else result
        return self._compare_with_mistakes(function, run, {function})

    def expect_backward(self, function, x, gamma, beta, dout, bn_param, pick):
        """``pick`` of ``function(dout, cache)`` after a train-mode forward on x. Besides
        the mistakes of ``function``, the alternates hold what the reference backward
        gives after each known mistake of the forward."""
        def run(module):
            _, cache = module.batchnorm_forward(x.copy(), gamma.copy(), beta.copy(), dict(bn_param))
            return pick(getattr(module, function)(dout.copy(), cache))
        return self._compare_with_mistakes(function, run, {function, "batchnorm_forward"})

    def _compare_with_mistakes(self, function, run, functions):
        value = np.asarray(run(self.modules[self.functions[function]]))
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
                        wrong = np.asarray(wrong)
                        if wrong.shape == value.shape and np.allclose(wrong, value, rtol=1e-6, atol=1e-8):
                            continue
            except KeyError:  # the mistake never stores the value asked for
                wrong = MISSING
            except Exception:  # a mistake that cannot even run on these inputs matches nothing
                continue
            alternates.append(Alternate(mistake.id, mistake.function, mistake.sentence, wrong))
        return Expected(value, alternates, function)


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

            def expect_backward(self, *args, **kwargs):
                return self._record(live.expect_backward(*args, **kwargs))

            def _record(self, expected):
                recorded.append(expected_to_json(expected))
                return expected
        return _Recorder()

    def dumps(self):
        return json.dumps(self.answers, indent=1, sort_keys=True) + "\n"
