"""Expected answers for the public checks, stored in ``expected.json``.

The hidden grader computes expected answers from the reference solution; the
student's copy has no reference, so the answers of the public checks (and the
answers known mistakes give) are recorded from it once and stored here.
"""
import json
from pathlib import Path

import numpy as np

from .compare import MISSING, Alternate, Expected

EXPECTED = "expected.json"  # beside the public checks it answers for


def to_json(value):
    """An answer as JSON: an array, or None / MISSING for a known mistake that gives no array."""
    if value is None or value is MISSING:
        return {"none": value is None}
    array = np.asarray(value)
    return {"dtype": array.dtype.str, "shape": list(array.shape), "data": array.ravel().tolist()}


def from_json(entry):
    if "none" in entry:
        return None if entry["none"] else MISSING
    return np.array(entry["data"], dtype=np.dtype(entry["dtype"])).reshape(entry["shape"])


def expected_to_json(expected):
    return {"function": expected.function, "value": to_json(expected.value),
            "alternates": [[a.id, a.function, a.sentence, to_json(a.value)] for a in expected.alternates]}


def expected_from_json(entry):
    return Expected(from_json(entry["value"]),
                    [Alternate(id_, function, sentence, from_json(value))
                     for id_, function, sentence, value in entry["alternates"]], entry["function"])


class StoredReference:
    """Answers the checks' questions (``expect``, ``expect_after``) in the order
    each check asks them."""

    def __init__(self, folder):
        self.answers = json.loads((Path(folder) / EXPECTED).read_text())

    def for_check(self, name):
        return _CheckAnswers(self.answers.get(name, []), name)


class _CheckAnswers:
    def __init__(self, answers, name):
        self.answers, self.name, self.next = answers, name, 0

    def expect(self, function, *args, pick=None, **kwargs):
        if self.next >= len(self.answers):
            raise RuntimeError(f"expected.json has no answer #{self.next + 1} for check {self.name!r}; "
                               "regenerate it with `make release`")
        self.next += 1
        return expected_from_json(self.answers[self.next - 1])

    expect_after = expect
