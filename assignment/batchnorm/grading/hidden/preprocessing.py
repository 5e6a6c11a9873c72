"""Hidden checks of preprocessing.py. Each also makes sure the function leaves its
input as it was; data_preprocess is judged as the composition of the student's own
parts (``judge_data_preprocess``)."""
from autograder.kit.compare import assert_close
from autograder.kit.framework import Suite

from .. import ASSIGNMENT
from ..public.inputs import PREPROCESSING, assert_leaves_input, judge_data_preprocess, rng

suite = Suite(ASSIGNMENT, hidden=True)


def _images():
    return rng(110).normal(120.0, 40.0, (12, 4, 4, 3))


def _judge(student, ref, function, X, tried, **tolerance):
    expected = ref.expect(function, X)
    call = student.call(function, X)
    assert_close(call.value, expected, what=f"{function}(X)", tried=tried, **tolerance)
    assert_leaves_input(call, X, function)


@suite.check("zero_centered: image-shaped input (N, H, W, C)", group="preprocessing", points=1,
             tags=["zero_centered"])
def zero_centered_images(student, ref):
    _judge(student, ref, "zero_centered", _images(), "for images X of shape (12, 4, 4, 3)")


@suite.check("zero_centered: large offsets (mean 1e4)", group="preprocessing", points=1,
             tags=["zero_centered"])
def zero_centered_offsets(student, ref):
    _judge(student, ref, "zero_centered", 1e4 + rng(111).normal(0.0, 1.0, (30, 5)),
           "for X of shape (30, 5) with features around 1e4", atol=1e-7)


@suite.check("normalized: image-shaped input with constant pixels", group="preprocessing", points=1,
             tags=["normalized"])
def normalized_images(student, ref):
    X = _images()
    X[:, 0, 0, :] = 3.0
    _judge(student, ref, "normalized", X, "for images X of shape (12, 4, 4, 3) whose top-left pixel is constant")


@suite.check("normalized: integer input", group="preprocessing", points=1, tags=["normalized"])
def normalized_integers(student, ref):
    _judge(student, ref, "normalized", rng(112).integers(0, 256, (20, 6)),
           "for an integer array X of shape (20, 6) (pixel values)")


@suite.check("data_preprocess: values on images with large offsets", group="preprocessing", points=1,
             tags=PREPROCESSING)
def preprocess_images(student, ref):
    X = 1e4 + _images()
    X[:, 1, 2, 0] = -5.0
    return judge_data_preprocess(student, ref, X,
                                 "for images X of shape (12, 4, 4, 3) around 1e4 with one constant pixel")


@suite.check("data_preprocess: integer input gives a float result", group="preprocessing", points=1,
             tags=PREPROCESSING)
def preprocess_integers(student, ref):
    return judge_data_preprocess(student, ref, rng(113).integers(-3, 4, (25, 3)),
                                 "for an integer array X of shape (25, 3)")
