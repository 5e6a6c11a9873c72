"""The public checks, which students run themselves; their answers are stored in
``expected.json``, recorded from the reference solution."""
from .checks import suite

__all__ = ["suite"]
