"""python -m selfcheck [FOLDER], in a student's copy of the kit: run the public checks
and print a score table with what to fix."""
import argparse
from pathlib import Path

from . import check_folder
from .report import feedback, table

parser = argparse.ArgumentParser(
    prog="python -m selfcheck",
    description="Run the public checks on your modules and print a score table with what to fix. The hidden "
                "grader runs more cases of the same kind.")
parser.add_argument("folder", nargs="?", default=".", type=Path,
                    help="the folder that holds your modules (default: the current folder)")
folder = parser.parse_args().folder
if not folder.is_dir():
    parser.error(f"{folder} is not a folder; give the folder that holds your modules")
outcomes = check_folder(folder)
print(table(outcomes, "Public self-check (the hidden grader runs more cases)"))
print()
print(feedback(outcomes, heading="What to fix"))
