"""The grading of the normalization assignment: its interface (``ASSIGNMENT``), its
public checks (``public/``, copied into every student folder beside the kit), its
hidden checks (``hidden/``), the catalogue of known mistakes (``misconceptions.py``)
and the demo class's extra submissions (``demo.py``). Only ``public/`` and this file
reach students."""
from ..framework import Assignment

ASSIGNMENT = Assignment(
    "normalization",
    functions={
        "layernorm_forward": "layernorm",
        "layernorm_backward": "layernorm",
        "spatial_batchnorm_forward": "spatial_batchnorm",
        "spatial_batchnorm_backward": "spatial_batchnorm",
        "spatial_groupnorm_forward": "groupnorm",
        "spatial_groupnorm_backward": "groupnorm",
    },
    groups=("layernorm_forward", "layernorm_backward", "spatial_batchnorm_forward", "spatial_batchnorm_backward",
            "spatial_groupnorm_forward", "spatial_groupnorm_backward"),
)
