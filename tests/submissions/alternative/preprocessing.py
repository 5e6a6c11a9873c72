"""A correct solution written differently: manual sums, a loop-free mask."""
import numpy as np


def zero_centered(X):
    X = np.array(X, dtype=float)
    return X - np.sum(X, axis=0) / X.shape[0]


def normalized(X):
    X = np.array(X, dtype=float)
    std = np.sqrt(np.mean((X - X.mean(axis=0)) ** 2, axis=0))
    safe = std.copy()
    safe[safe == 0] = 1
    return X / safe


def data_preprocess(X):
    return normalized(zero_centered(X))
