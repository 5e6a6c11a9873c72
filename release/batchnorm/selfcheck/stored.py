"""Expected answers for the public checks, stored in ``expected.json``.

The hidden grader computes expected answers from the reference solution; the
student's copy has no reference, so the answers of the public checks (and the
answers known mistakes give) are recorded from it once and stored here.
"""
import json
from pathlib import Path

import numpy as np

from .compare import Expected

EXPECTED = Path(__file__).with_name("expected.json")


def to_json(array):
    array = np.asarray(array)
    return {"dtype": array.dtype.str, "shape": list(array.shape), "data": array.ravel().tolist()}


def from_json(entry):
    return np.array(entry["data"], dtype=np.dtype(entry["dtype"])).reshape(entry["shape"])


class StoredReference:
    """Answers ``expect`` calls in the order each check makes them."""

    def __init__(self, path=EXPECTED):
        self.answers = json.loads(Path(path).read_text())

    def for_check(self, name):
        return _CheckAnswers(self.answers.get(name, []), name)


class _CheckAnswers:
    def __init__(self, answers, name):
        self.answers, self.name, self.next = answers, name, 0

    def expect(self, function, *args, pick=None, **kwargs):
        if self.next >= len(self.answers):
            raise RuntimeError(f"expected.json has no answer #{self.next + 1} for check {self.name!r}; "
                               "regenerate it with `make release`")
        entry = self.answers[self.next]
        self.next += 1
        return Expected(from_json(entry["value"]),
                        [(sentence, from_json(value)) for sentence, value in entry["alternates"]])
