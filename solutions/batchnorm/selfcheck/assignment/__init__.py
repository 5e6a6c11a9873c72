"""The grading of the batchnorm assignment: its interface (``ASSIGNMENT``), its public
checks (``public/``, copied into every student folder beside the kit), its hidden
checks (``hidden/``), the catalogue of known mistakes (``misconceptions.py``) and the
demo class's extra submissions (``demo.py``). Only ``public/`` and this file reach
students."""
from ..framework import Assignment

ASSIGNMENT = Assignment(
    "batchnorm",
    functions={
        "zero_centered": "preprocessing",
        "normalized": "preprocessing",
        "data_preprocess": "preprocessing",
        "zeros_init": "initializers",
        "random_init": "initializers",
        "xavier_init": "initializers",
        "he_init": "initializers",
        "batchnorm_forward": "batchnorm",
        "batchnorm_backward": "batchnorm",
        "batchnorm_backward_alt": "batchnorm",
    },
    groups=("preprocessing", "initializers", "batchnorm_forward", "batchnorm_backward", "batchnorm_backward_alt"),
)
