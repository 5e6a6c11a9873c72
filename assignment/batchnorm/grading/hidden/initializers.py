"""Hidden checks of initializers.py: one function per check, statistical tests of the
draws (thresholds derived in ``selfcheck/draws.py``)."""
import numpy as np

from autograder.kit.compare import assert_true, plain_array
from autograder.kit.framework import Suite

from .. import ASSIGNMENT
from ..public.draws import (
    FAN_IN,
    FAN_OUT,
    assert_fresh_without_rng,
    assert_gaussian,
    assert_reproducible,
    assert_scale,
    draw,
)

suite = Suite(ASSIGNMENT, hidden=True)


@suite.check("zeros_init: non-square shape (fan_in, fan_out), float64 zeros", group="initializers",
             points=1, tags=["zeros_init"])
def zeros_non_square(student, ref):
    W = plain_array(student.call("zeros_init", 5, 2).value, "zeros_init(5, 2)", shape=(5, 2))
    assert_true(W.dtype == np.float64 and not W.any(), "zeros_init(5, 2) should be float64 zeros.")


@suite.check("random_init: Gaussian draws, reproducible from rng, fresh without it", group="initializers",
             points=1, tags=["random_init"])
def random_gaussian(student, ref):
    assert_reproducible(student, "random_init", 0.5)
    assert_fresh_without_rng(student, "random_init", 0.5)
    assert_gaussian(draw(student, "random_init", 1.0), "random_init's sample")


@suite.check("xavier_init: mean 0 and variance 1/fan_in", group="initializers", points=1,
             tags=["xavier_init"])
def xavier_scale(student, ref):
    assert_scale(draw(student, "xavier_init"), 1 / np.sqrt(FAN_IN), f"xavier_init({FAN_IN}, {FAN_OUT})",
                 ref, "xavier_init")


@suite.check("xavier_init: Gaussian draws, fresh without rng", group="initializers", points=1,
             tags=["xavier_init"])
def xavier_gaussian(student, ref):
    assert_fresh_without_rng(student, "xavier_init")
    assert_gaussian(draw(student, "xavier_init"), "xavier_init's sample")


@suite.check("he_init: Gaussian draws", group="initializers", points=1, tags=["he_init"])
def he_gaussian(student, ref):
    assert_gaussian(draw(student, "he_init"), "he_init's sample")


@suite.check("he_init: reproducible from rng, fresh without it", group="initializers", points=1,
             tags=["he_init"])
def he_reproducible(student, ref):
    assert_reproducible(student, "he_init")
    assert_fresh_without_rng(student, "he_init")
