"""Build the student and solution versions of a course's assignments.

Each version is a list of steps applied to a staging folder; the finished folder
replaces the old one only when every step succeeded, so a bad marker leaves the
committed trees untouched.

Neither version holds the assignment's ``grading/`` package (its hidden checks and
catalogue of mistakes). Both hold ``selfcheck/``: the grading kit
(``autograder/kit``) with the assignment's public part (``grading/__init__.py`` and
``grading/public/``) beside it in ``selfcheck/assignment/``, vendored the way pip
vendors its dependencies: the public part's imports of ``autograder.kit`` become
relative imports of the copy, so that it runs with numpy alone.
"""
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

from .regions import MarkerError, has_markers, solution_version

REPOSITORY = Path(__file__).resolve().parent.parent
KIT = REPOSITORY / "autograder" / "kit"
# The course's pinned versions; an assignment's requirements.txt names packages only.
PINS = REPOSITORY / "requirements.txt"
GRADING = "grading"  # an assignment's grading package: never copied into a version
SELFCHECK = "selfcheck"
LEAK_WORDS = ("BEGIN SOLUTION", "END SOLUTION", "HIDDEN TESTS")
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints", "executed", ".pytest_cache")


class BuildError(RuntimeError):
    pass


@dataclass(frozen=True)
class Build:
    """One version of one assignment being built in ``staging``."""
    course: Path
    name: str
    staging: Path

    @property
    def master(self):
        return self.course / "assignment" / self.name


def _nbgrader_release(build):
    """nbgrader clears solutions and hidden tests in the notebooks and records the
    grade cells in the gradebook (autograde needs them); the post-convert hook set in
    nbgrader_config.py (builder.nbgrader_hook) does the rest of a student version."""
    rel = build.staging.parent.relative_to(build.course)
    cmd = [sys.executable, "-m", "nbgrader", "generate_assignment", build.name, "--force", "--quiet",
           f"--CourseDirectory.release_directory={rel}"]
    # nbgrader runs `alembic` from PATH when it creates a gradebook.
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run(cmd, cwd=build.course, env=env, capture_output=True, text=True)
    # nbgrader exits 0 even when it failed, so the output folder is the evidence.
    if done.returncode != 0 or not build.staging.is_dir():
        raise BuildError(f"nbgrader generate_assignment failed:\n{done.stdout}{done.stderr}")


def _copy_source(build):
    shutil.copytree(build.master, build.staging, ignore=_without_grading)


def _without_grading(folder, names):
    return set(IGNORED(folder, names)) | ({GRADING} if Path(folder).name != GRADING else set())


def rewrite_modules(folder, version):
    """Apply ``student_version`` or ``solution_version`` to the modules in ``folder``."""
    for path in sorted(Path(folder).glob("*.py")):
        text = path.read_text()
        if has_markers(text):
            path.write_text(version(text, path.name))


def _solution_modules(build):
    rewrite_modules(build.staging, solution_version)


def _solution_notebooks(build):
    for path in sorted(build.staging.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code" and has_markers(cell.source):
                cell.source = solution_version(cell.source, f"{path.name}, cell {cell.id}")
        nbformat.write(nb, path)


def vendor_selfcheck(master, folder):
    """Write ``folder/selfcheck``: the kit, and the public part of ``master``'s grading
    package in ``selfcheck/assignment/`` with its imports of the kit made relative."""
    target = Path(folder) / SELFCHECK
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(KIT, target, ignore=IGNORED)
    grading = Path(master) / GRADING
    public = [grading / "__init__.py", *(p for p in sorted((grading / "public").rglob("*"))
                                         if p.is_file() and not _ignored(p.relative_to(grading)))]
    for path in public:
        copy = target / "assignment" / path.relative_to(grading)
        copy.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix != ".py":
            shutil.copyfile(path, copy)
            continue
        text = _relative_kit_imports(path.read_text(), "." * len(copy.relative_to(target).parts))
        if "autograder" in text:
            raise BuildError(f"{path.relative_to(master)} uses the grader beyond `from autograder.kit... import`; "
                             "the public checks reach students and may import only the kit")
        copy.write_text(text)


def _relative_kit_imports(text, dots):
    """``from autograder.kit.X import`` and ``from autograder.kit import`` made relative to the copy."""
    text = re.sub(r"^(\s*)from autograder\.kit\.", rf"\1from {dots}", text, flags=re.M)
    return re.sub(r"^(\s*)from autograder\.kit import", rf"\1from {dots} import", text, flags=re.M)


def _selfcheck(build):
    vendor_selfcheck(build.master, build.staging)


def pin_requirements(folder):
    """Give every package named in ``folder``'s requirements.txt the version the course
    pins (PINS), so that students install what the course was tested with."""
    versions = {}
    for line in PINS.read_text().splitlines():
        name, pinned, version = line.partition("==")
        if pinned:
            versions[_package(name)] = version.strip()
    path = Path(folder) / "requirements.txt"
    if not path.is_file():
        return
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


def _pinned_requirements(build):
    pin_requirements(build.staging)


def _complete_and_clean(build):
    """Every file of the master but its grading package is in the version (a failed
    hook cannot leave a module out), so is the self-check, the grading package is not,
    and no file still holds a marker."""
    for path in sorted(p for p in build.master.rglob("*") if p.is_file()):
        relative = path.relative_to(build.master)
        if not _ignored(relative) and relative.parts[0] != GRADING and not (build.staging / relative).is_file():
            raise BuildError(f"{relative} is missing from the generated version")
    if (build.staging / GRADING).exists():
        raise BuildError(f"the generated version holds {GRADING}/, the hidden checks; nothing was written")
    if not (build.staging / SELFCHECK / "assignment" / "public" / "__init__.py").is_file():
        raise BuildError(f"the generated version has no {SELFCHECK}/ with the public checks")
    for path in sorted(p for p in build.staging.rglob("*") if p.is_file()):
        text = path.read_text(errors="replace")
        for word in LEAK_WORDS:
            if word in text:
                raise BuildError(f"{path.relative_to(build.staging)} still holds '{word}' after the build; "
                                 "only lines holding nothing but '### BEGIN SOLUTION' and the like are "
                                 "recognised as markers")


def _ignored(relative):
    return any(IGNORED(str(relative.parent), [part]) for part in relative.parts)


# The release's requirements are pinned and its self-check vendored by the hook already;
# doing both again makes a failed hook fail the build.
RELEASE_STEPS = [_nbgrader_release, _pinned_requirements, _selfcheck, _complete_and_clean]
SOLUTION_STEPS = [_copy_source, _solution_modules, _solution_notebooks, _pinned_requirements, _selfcheck,
                  _complete_and_clean]


def assignments(course):
    """The names of the course's assignments: the folders of assignment/ with a grading package."""
    return sorted(p.parent.parent.name for p in (Path(course) / "assignment").glob(f"*/{GRADING}/__init__.py"))


def _check_markers(master, course):
    """Validate every module before anything is written."""
    for path in sorted(master.glob("*.py")):
        solution_version(path.read_text(), str(path.relative_to(course)))


def build(course, version, name):
    """Build ``release`` or ``solutions`` of assignment ``name`` under ``course`` (a
    course folder holding assignment/ and nbgrader_config.py); return its folder."""
    course = Path(course).resolve()
    steps = {"release": RELEASE_STEPS, "solutions": SOLUTION_STEPS}[version]
    master = course / "assignment" / name
    _check_markers(master, course)
    work = course / ".build" / version
    shutil.rmtree(work, ignore_errors=True)
    job = Build(course, name, work / name)
    for step in steps:
        step(job)
    target = course / version / name
    target.parent.mkdir(exist_ok=True)
    old = work / "old"
    if target.exists():
        target.rename(old)
    try:
        job.staging.rename(target)
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
    parser.add_argument("--course", "--root", dest="course", default=Path.cwd(), type=Path,
                        help="course folder (default: the working folder)")
    parser.add_argument("--assignment", metavar="NAME", help="one assignment (default: every one of the course)")
    args = parser.parse_args(argv)
    names = [args.assignment] if args.assignment else assignments(args.course)
    if not names or not all((args.course / "assignment" / n / GRADING).is_dir() for n in names):
        parser.error(f"no such assignment in {args.course / 'assignment'}: {', '.join(names) or '(none)'}")
    for name in names:
        try:
            target = build(args.course, args.version, name)
        except (MarkerError, BuildError) as err:
            print(f"error: {name}: {err}\nNothing was written.", file=sys.stderr)
            return 1
        print(f"wrote {target}")
    return 0
