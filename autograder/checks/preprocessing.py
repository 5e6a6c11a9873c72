"""Hidden checks of preprocessing.py."""
import numpy as np

from autograder.public.compare import assert_close, assert_true, plain_array
from autograder.public.framework import Suite
from autograder.public.inputs import PREPROCESSING, rng

suite = Suite(hidden=True)


def _images():
    return rng(110).normal(120.0, 40.0, (12, 4, 4, 3))


@suite.check("zero_centered: image-shaped input (N, H, W, C)", group="preprocessing", points=1,
             tags=["zero_centered"])
def zero_centered_images(student, ref):
    X = _images()
    assert_close(student.call("zero_centered", X).value, ref.expect("zero_centered", X),
                 what="zero_centered(X)", tried="for images X of shape (12, 4, 4, 3)")


@suite.check("zero_centered: large offsets (mean 1e4)", group="preprocessing", points=1,
             tags=["zero_centered"])
def zero_centered_offsets(student, ref):
    X = 1e4 + rng(111).normal(0.0, 1.0, (30, 5))
    assert_close(student.call("zero_centered", X).value, ref.expect("zero_centered", X),
                 what="zero_centered(X)", tried="for X of shape (30, 5) with features around 1e4",
                 atol=1e-7)


@suite.check("normalized: image-shaped input with constant pixels", group="preprocessing", points=1,
             tags=["normalized"])
def normalized_images(student, ref):
    X = _images()
    X[:, 0, 0, :] = 3.0
    assert_close(student.call("normalized", X).value, ref.expect("normalized", X),
                 what="normalized(X)",
                 tried="for images X of shape (12, 4, 4, 3) whose top-left pixel is constant")


@suite.check("normalized: integer input", group="preprocessing", points=1, tags=["normalized"])
def normalized_integers(student, ref):
    X = rng(112).integers(0, 256, (20, 6))
    assert_close(student.call("normalized", X).value, ref.expect("normalized", X),
                 what="normalized(X)", tried="for an integer array X of shape (20, 6) (pixel values)")


@suite.check("data_preprocess: values on images with large offsets", group="preprocessing", points=1,
             tags=PREPROCESSING)
def preprocess_images(student, ref):
    X = 1e4 + _images()
    X[:, 1, 2, 0] = -5.0
    assert_close(student.call("data_preprocess", X).value, ref.expect("data_preprocess", X),
                 what="data_preprocess(X)",
                 tried="for images X of shape (12, 4, 4, 3) around 1e4 with one constant pixel")


@suite.check("data_preprocess: integer input gives a float result", group="preprocessing", points=1,
             tags=PREPROCESSING)
def preprocess_integers(student, ref):
    X = rng(113).integers(-3, 4, (25, 3))
    got = plain_array(student.call("data_preprocess", X).value, "data_preprocess(X)", shape=X.shape)
    assert_close(got, ref.expect("data_preprocess", X), what="data_preprocess(X)",
                 tried="for an integer array X of shape (25, 3)",
                 hint="Integer division or an integer result array truncates; convert to float first.")


@suite.check("preprocessing: the input array is not modified", group="preprocessing", points=1,
             tags=PREPROCESSING)
def preprocessing_leaves_input(student, ref):
    X = rng(114).normal(2.0, 3.0, (10, 4))
    for function in PREPROCESSING:
        after = student.call(function, X.copy()).args[0]
        assert_true(isinstance(after, np.ndarray) and np.array_equal(after, X),
                    f"{function}(X) modified X in place; compute on a copy "
                    "(X - mean creates a new array, X -= mean does not).")
