"""A tiny second assignment, to prove that the grader serves any assignment: two
functions of one module."""
import numpy as np


def double(x):
    """Twice ``x``.

    Parameters
    ----------
    x : array_like of numbers

    Returns
    -------
    numpy.ndarray, float64, the shape of x
        ``2 * x``, a new array.
    """
    ### BEGIN SOLUTION
    return 2.0 * np.asarray(x, dtype=np.float64)
    ### END SOLUTION


def clipped(x):
    """``x`` clipped to the interval [0, 1].

    Parameters
    ----------
    x : array_like of numbers

    Returns
    -------
    numpy.ndarray, float64, the shape of x
        Values below 0 become 0, values above 1 become 1; a new array.
    """
    ### BEGIN SOLUTION
    return np.clip(np.asarray(x, dtype=np.float64), 0.0, 1.0)
    ### END SOLUTION
