"""The public check of the tiny assignment."""
from .checks import suite

__all__ = ["suite"]
