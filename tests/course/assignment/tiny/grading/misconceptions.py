"""The tiny assignment's one known mistake."""
from autograder.misconceptions import Mistake

CATALOGUE = (
    Mistake("tiny-clip-upper-only", "clipped",
            (("np.clip(np.asarray(x, dtype=np.float64), 0.0, 1.0)",
              "np.minimum(np.asarray(x, dtype=np.float64), 1.0)"),),
            "values below 0 must become 0 as well: clip both ends of the interval."),
)
