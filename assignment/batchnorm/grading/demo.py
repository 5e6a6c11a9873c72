"""The demo class's submissions beyond one per known mistake: failures that show how
grading contains them."""
from autograder.misconceptions import Mistake

BROKEN = (
    Mistake("syntax-error", "zero_centered", (("def zero_centered(X):", "def zero_centered(X)"),),
            "a missing colon: the module cannot be imported"),
    Mistake("endless-loop", "batchnorm_backward_alt",
            (("    xhat, _, ivar, _, gamma = cache\n", "    xhat, _, ivar, _, gamma = cache\n    while True:\n"
                                                      "        pass\n"),),
            "a loop that never ends"),
)
