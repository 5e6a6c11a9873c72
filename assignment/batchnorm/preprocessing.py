"""Data preprocessing: centre each feature, then scale it to unit standard deviation.

Statistics are computed over the first axis (the examples), separately for every
feature; a feature may itself be an image pixel, so X can have any shape (N, ...).
"""
import numpy as np


def zero_centered(X):
    """Subtract the per-feature mean, computed over the examples.

    Parameters
    ----------
    X : numpy.ndarray, shape (N, ...)
        N examples; any trailing shape (e.g. (N, D) or (N, H, W, C)).
        Integer input is allowed.

    Returns
    -------
    numpy.ndarray, float, same shape as X
        ``X - mean(X, axis=0)``: every feature has mean 0 over the examples.
        A new array; X is not modified.
    """
    ### BEGIN SOLUTION
    X = np.asarray(X, dtype=np.float64)
    return X - X.mean(axis=0)
    ### END SOLUTION


def normalized(X):
    """Divide every feature by its standard deviation over the examples.

    Parameters
    ----------
    X : numpy.ndarray, shape (N, ...)

    Returns
    -------
    numpy.ndarray, float, same shape as X
        ``X / std(X, axis=0)`` with the population standard deviation (ddof=0).
        A feature whose standard deviation is 0 (a constant feature) is divided
        by 1 instead, so the result never holds NaN or inf.
        A new array; X is not modified.
    """
    ### BEGIN SOLUTION
    X = np.asarray(X, dtype=np.float64)
    std = X.std(axis=0)
    return X / np.where(std == 0, 1.0, std)
    ### END SOLUTION


def data_preprocess(X):
    """Zero-centre, then normalize: ``normalized(zero_centered(X))``.

    Parameters
    ----------
    X : numpy.ndarray, shape (N, ...)

    Returns
    -------
    numpy.ndarray, float, same shape as X
        Every feature has mean 0 and standard deviation 1 over the examples
        (a constant feature becomes all zeros). X is not modified.
    """
    ### BEGIN SOLUTION
    return normalized(zero_centered(X))
    ### END SOLUTION
