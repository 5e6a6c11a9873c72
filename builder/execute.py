"""Executed copies of the solution notebooks, so that instructors see the expected
outputs and figures without running anything.

Every notebook of solutions/batchnorm/ runs top to bottom in a temporary copy of
that folder and is written, with its outputs, to solutions/batchnorm/executed/.
That folder is git-ignored: measured timings make the outputs differ between runs.
It is replaced only when every notebook ran, so a failing cell leaves the old
copies in place.

    python -m builder.execute [--root COURSE]
"""
import shutil
import sys
import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from .build import ASSIGNMENT, IGNORED, BuildError

EXECUTED = "executed"


def _execute(path, folder, timeout):
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(folder)}})
    try:
        client.execute()
    except CellExecutionError as err:
        failed = next((c.id for c in nb.cells if any(o.output_type == "error" for o in c.get("outputs", []))), "?")
        raise BuildError(f"{path.name}, cell {failed}: {err.ename}: {err.evalue}\n"
                         "Fix the notebook in assignment/, then run `make solutions` again.") from None
    return nb


def execute_solutions(root, timeout=600):
    """Execute every solution notebook under ``root``; return the paths written."""
    solutions = Path(root).resolve() / "solutions" / ASSIGNMENT
    if not any(solutions.glob("*.ipynb")):
        raise BuildError(f"no notebooks in {solutions}; run `make solutions` first")
    target = solutions / EXECUTED
    with tempfile.TemporaryDirectory(prefix="batchnorm-execute-") as scratch:
        work = Path(scratch) / ASSIGNMENT
        shutil.copytree(solutions, work, ignore=IGNORED)
        staging = Path(scratch) / EXECUTED
        staging.mkdir()
        for path in sorted(work.glob("*.ipynb")):
            nbformat.write(_execute(path, work, timeout), staging / path.name)
        # Copied next to the target first, so that the swap is two renames.
        incoming, outgoing = solutions / f".{EXECUTED}.new", solutions / f".{EXECUTED}.old"
        for leftover in (incoming, outgoing):
            shutil.rmtree(leftover, ignore_errors=True)
        shutil.copytree(staging, incoming)
        if target.exists():
            target.rename(outgoing)
        incoming.rename(target)
        shutil.rmtree(outgoing, ignore_errors=True)
    return sorted(target.glob("*.ipynb"))


def main(argv=None):
    import argparse
    parser = argparse.ArgumentParser(prog="python -m builder.execute",
                                     description="Write executed copies of the solution notebooks.")
    parser.add_argument("--root", default=Path(__file__).resolve().parent.parent, type=Path,
                        help="course folder (default: this repository)")
    args = parser.parse_args(argv)
    try:
        written = execute_solutions(args.root)
    except BuildError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    for path in written:
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
