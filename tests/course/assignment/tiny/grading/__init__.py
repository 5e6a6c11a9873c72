"""The grading of the tiny assignment: its interface, one public check and one
hidden check, and one known mistake."""
from autograder.kit.framework import Assignment

ASSIGNMENT = Assignment("tiny", functions={"double": "arith", "clipped": "arith"}, groups=("double", "clipped"))
