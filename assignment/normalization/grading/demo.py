"""The demo class's submissions beyond one per known mistake: failures that show how
grading contains them."""
from autograder.misconceptions import Mistake

BROKEN = (
    Mistake("syntax-error", "spatial_groupnorm_forward",
            (("def spatial_groupnorm_forward(x, gamma, beta, G, gn_param):",
              "def spatial_groupnorm_forward(x, gamma, beta, G, gn_param)"),),
            "a missing colon: the module cannot be imported"),
    Mistake("endless-loop", "layernorm_backward",
            (("    xhat, ivar, gamma = cache\n", "    xhat, ivar, gamma = cache\n    while True:\n        pass\n"),),
            "a loop that never ends"),
)
