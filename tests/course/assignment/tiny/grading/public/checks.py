"""The public check: students run it with ``python -m selfcheck``."""
import numpy as np

from autograder.kit.compare import assert_close
from autograder.kit.framework import Suite

from .. import ASSIGNMENT

suite = Suite(ASSIGNMENT, visibility="visible")


@suite.check("double: a small vector", group="double", points=1, tags=["double"])
def double_vector(student, ref):
    x = np.array([-1.5, 0.0, 2.0, 7.25])
    assert_close(student.call("double", x).value, ref.expect("double", x), what="double(x)",
                 tried="for x = [-1.5, 0, 2, 7.25]")
