"""The hidden check of the tiny assignment."""
import numpy as np

from autograder.kit.compare import assert_close
from autograder.kit.framework import Suite

from .. import ASSIGNMENT

suite = Suite(ASSIGNMENT, hidden=True)


@suite.check("clipped: values on both sides of [0, 1]", group="clipped", points=1, tags=["clipped"])
def clipped_both_sides(student, ref):
    x = np.array([[-2.0, 0.25], [0.75, 3.0]])
    assert_close(student.call("clipped", x).value, ref.expect("clipped", x), what="clipped(x)",
                 tried="for x holding values below 0, inside [0, 1] and above 1")


CHECKS = suite.checks
