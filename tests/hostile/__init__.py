"""Hostile submissions: each attacks the grader with one function (docs/sandbox.md)."""
