"""Benchmarks of the grader and of the exercise's batch norm, run by one command:

    python -m benchmarks [--quick] [--no-nbgrader] [--write docs/benchmarks.md]

Each module measures one thing and returns ``Section``s (``sections.py``) that are
printed as they finish and written, with the machine they came from, as Markdown.
Nothing here is a test: the numbers describe this machine on this run.
"""
