"""Build the student and solution versions of the assignment.

Each version is a list of steps applied to a staging folder; the finished folder
replaces the old one only when every step succeeded, so a bad marker leaves the
committed trees untouched.
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

from .regions import MarkerError, has_markers, solution_version

ASSIGNMENT = "batchnorm"
# The course's pinned versions; the assignment's requirements.txt names packages only.
PINS = Path(__file__).resolve().parent.parent / "requirements.txt"
LEAK_WORDS = ("BEGIN SOLUTION", "END SOLUTION", "HIDDEN TESTS")
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints", "executed", ".pytest_cache")


def _nbgrader_release(root, staging):
    """nbgrader clears solutions and hidden tests in the notebooks and records the
    grade cells in the gradebook (autograde needs them); the post-convert hook set in
    nbgrader_config.py (builder.nbgrader_hook) stubs the modules and pins the requirements."""
    rel = staging.parent.relative_to(root)
    cmd = [sys.executable, "-m", "nbgrader", "generate_assignment", ASSIGNMENT, "--force", "--quiet",
           f"--CourseDirectory.release_directory={rel}"]
    # nbgrader runs `alembic` from PATH when it creates a gradebook.
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True)
    # nbgrader exits 0 even when it failed, so the output folder is the evidence.
    if done.returncode != 0 or not staging.is_dir():
        raise BuildError(f"nbgrader generate_assignment failed:\n{done.stdout}{done.stderr}")


def _copy_source(root, staging):
    shutil.copytree(root / "assignment" / ASSIGNMENT, staging, ignore=IGNORED)


def rewrite_modules(folder, version):
    """Apply ``student_version`` or ``solution_version`` to the modules in ``folder``."""
    for path in sorted(Path(folder).glob("*.py")):
        text = path.read_text()
        if has_markers(text):
            path.write_text(version(text, path.name))


def pin_requirements(folder):
    """Give every package named in ``folder``'s requirements.txt the version the course
    pins (PINS), so that students install what the course was tested with."""
    versions = {}
    for line in PINS.read_text().splitlines():
        name, pinned, version = line.partition("==")
        if pinned:
            versions[_package(name)] = version.strip()
    path = Path(folder) / "requirements.txt"
    lines = []
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name = line.split("==")[0].strip()
            if _package(name) not in versions:
                raise BuildError(f"requirements.txt names {name}, which {PINS.name} does not pin")
            line = f"{name}=={versions[_package(name)]}"
        lines.append(line)
    path.write_text("\n".join(lines) + "\n")


def _package(name):
    return name.strip().lower().replace("_", "-")


def _pinned_requirements(root, staging):
    pin_requirements(staging)


def _solution_modules(root, staging):
    rewrite_modules(staging, solution_version)


def _solution_notebooks(root, staging):
    for path in sorted(staging.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code" and has_markers(cell.source):
                cell.source = solution_version(cell.source, f"{path.name}, cell {cell.id}")
        nbformat.write(nb, path)


def _complete_and_clean(root, staging):
    """Every file of the master is in the version (a failed hook cannot leave a
    module out), and none still holds a marker."""
    master = root / "assignment" / ASSIGNMENT
    for path in sorted(p for p in master.rglob("*") if p.is_file() and not _ignored(p.relative_to(master))):
        if not (staging / path.relative_to(master)).is_file():
            raise BuildError(f"{path.relative_to(master)} is missing from the generated version")
    for path in sorted(p for p in staging.rglob("*") if p.is_file()):
        text = path.read_text(errors="replace")
        for word in LEAK_WORDS:
            if word in text:
                raise BuildError(f"{path.relative_to(staging)} still holds '{word}' after the build; "
                                 "only lines holding nothing but '### BEGIN SOLUTION' and the like are "
                                 "recognised as markers")


def _ignored(relative):
    return any(IGNORED(str(relative.parent), [part]) for part in relative.parts)


# The release's requirements are pinned by the hook already; pinning again makes a failed hook fail the build.
RELEASE_STEPS = [_nbgrader_release, _pinned_requirements, _complete_and_clean]
SOLUTION_STEPS = [_copy_source, _solution_modules, _solution_notebooks, _pinned_requirements, _complete_and_clean]


class BuildError(RuntimeError):
    pass


def _check_markers(root):
    """Validate every module before anything is written."""
    for path in sorted((root / "assignment" / ASSIGNMENT).glob("*.py")):
        solution_version(path.read_text(), str(path.relative_to(root)))


def build(root, version):
    """Build ``release`` or ``solutions`` under ``root`` (a course folder holding
    assignment/ and nbgrader_config.py)."""
    root = Path(root).resolve()
    steps = {"release": RELEASE_STEPS, "solutions": SOLUTION_STEPS}[version]
    _check_markers(root)
    work = root / ".build" / version
    shutil.rmtree(work, ignore_errors=True)
    staging = work / ASSIGNMENT
    for step in steps:
        step(root, staging)
    target = root / version / ASSIGNMENT
    target.parent.mkdir(exist_ok=True)
    old = work / "old"
    if target.exists():
        target.rename(old)
    try:
        staging.rename(target)
    except OSError:
        if old.exists():
            old.rename(target)
        raise
    shutil.rmtree(work)
    return target


def main(argv=None):
    import argparse
    parser = argparse.ArgumentParser(prog="python -m builder",
                                     description="Generate the student or solution version from assignment/.")
    parser.add_argument("version", choices=["release", "solutions"])
    parser.add_argument("--root", default=Path(__file__).resolve().parent.parent, type=Path,
                        help="course folder (default: this repository)")
    args = parser.parse_args(argv)
    try:
        target = build(args.root, args.version)
    except (MarkerError, BuildError) as err:
        print(f"error: {err}\nNothing was written.", file=sys.stderr)
        return 1
    print(f"wrote {target}")
    return 0
