"""python -m selfcheck [FOLDER], in a student's copy of the kit: run the public checks
and print a score table."""
import sys

from . import check_folder
from .report import feedback, table

folder = sys.argv[1] if len(sys.argv) > 1 else "."
outcomes = check_folder(folder)
print(table(outcomes, "Public self-check (the hidden grader runs more cases)"))
print()
print(feedback(outcomes, heading="What to fix"))
