"""Executed copies of the solution notebooks, so that instructors see the expected
outputs and figures without running anything.

Every notebook of solutions/NAME/ runs top to bottom in a temporary copy of that
folder and is written, with its outputs, to solutions/NAME/executed/.
That folder is git-ignored: measured timings make the outputs differ between runs.
It is replaced only when every notebook ran, so a failing cell leaves the old
copies in place.

    python -m builder.execute [--course COURSE] [--assignment NAME]
"""
import shutil
import sys
import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from .build import IGNORED, BuildError, assignments

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


def execute_solutions(root, name, timeout=600):
    """Execute every solution notebook of assignment ``name`` under ``root``; return the paths written."""
    solutions = Path(root).resolve() / "solutions" / name
    if not any(solutions.glob("*.ipynb")):
        raise BuildError(f"no notebooks in {solutions}; run `make solutions` first")
    target = solutions / EXECUTED
    with tempfile.TemporaryDirectory(prefix="execute-") as scratch:
        work = Path(scratch) / name
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
    parser.add_argument("--course", "--root", dest="course", default=Path.cwd(), type=Path,
                        help="course folder (default: the working folder)")
    parser.add_argument("--assignment", metavar="NAME", help="one assignment (default: every one of the course)")
    args = parser.parse_args(argv)
    try:
        written = [path for name in ([args.assignment] if args.assignment else assignments(args.course))
                   for path in execute_solutions(args.course, name)]
    except BuildError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    for path in written:
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
