"""Known mistakes, made executable.

An assignment's catalogue (``assignment/NAME/grading/misconceptions.py``) lists
``Mistake`` entries, each a small patch to the reference solution. The patched module
is the mistake made executable: the grader runs it on the same inputs as the
reference, and when a student's wrong answer matches it, the feedback names the
misconception. The demo class is built from the same patches.
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class Mistake:
    id: str
    function: str  # the student function it is a mistake of
    patches: tuple  # (old, new) text replacements in the source of the function's module
    sentence: str


def apply(mistake, source, module):
    """``source`` of ``module`` with the mistake's patches applied; each must match once."""
    for old, new in mistake.patches:
        if source.count(old) != 1:
            raise ValueError(f"misconception {mistake.id}: {old!r} occurs {source.count(old)} times "
                             f"in {module}.py; it must occur exactly once")
        source = source.replace(old, new)
    return source
