"""Build Gradescope's ``autograder.zip``: ``setup.sh`` and ``run_autograder`` at its
root, next to what grading needs (the ``autograder`` package, the assignment's
reference modules and its ``grading/`` package, and the pinned requirements).

The zip is byte-identical from run to run: entries are sorted, and every entry has
the same timestamp and a permission that depends only on whether it is a script.
"""
import io
import shlex
import zipfile
from pathlib import Path

from ..assignments import ROOT
from ..reports.files import write_atomic_bytes

HERE = Path(__file__).resolve().parent
# What the grading process and the student's child process import: nothing else of
# requirements.txt (Jupyter, nbgrader, matplotlib) is needed on Gradescope.
GRADING_PACKAGES = ("numpy",)
EXECUTABLES = ("setup.sh", "run_autograder")
FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can hold


def pinned_requirements(requirements=ROOT / "requirements.txt", packages=GRADING_PACKAGES):
    """The lines of ``requirements`` that pin ``packages``; each must be pinned with ==."""
    pins = {}
    for line in requirements.read_text().splitlines():
        name, sep, version = line.strip().partition("==")
        if sep:
            pins[name.strip().lower()] = line.strip()
    missing = [p for p in packages if p.lower() not in pins]
    if missing:
        raise ValueError(f"{requirements} pins no version of {', '.join(missing)}; "
                         "add 'name==version' lines for them")
    return "".join(pins[p.lower()] + "\n" for p in packages)


def _tree(folder, arcbase):
    """(arcname, path) of every file under ``folder``, without caches or hidden files."""
    for path in sorted(folder.rglob("*")):
        parts = path.relative_to(folder).parts
        if path.is_file() and not any(p.startswith(".") or p == "__pycache__" for p in parts) \
                and path.suffix != ".pyc":
            yield f"{arcbase}/{'/'.join(parts)}", path


def bundle_contents(graded, grading_options=()):
    """{arcname: bytes} of the bundle of assignment ``graded``; ``grading_options`` (e.g.
    ["--hidden-visibility", "after_due_date"]) are baked into run_autograder as the
    options of every grading, after the assignment's name."""
    options = shlex.join(["--assignment", graded.name, *grading_options])
    run_autograder = (HERE / "run_autograder").read_text().replace("@GRADING_OPTIONS@", options)
    contents = {"setup.sh": (HERE / "setup.sh").read_bytes(),
                "run_autograder": run_autograder.replace(" \n", "\n").encode(),
                "requirements.txt": pinned_requirements().encode()}
    contents.update({arc: path.read_bytes() for arc, path in _tree(ROOT / "autograder", "autograder")})
    # The assignment's reference modules and its grading package, in a course of its own.
    master = f"assignment/{graded.name}"
    contents.update({f"{master}/{path.name}": path.read_bytes() for path in sorted(graded.master.glob("*.py"))})
    contents.update({arc: path.read_bytes() for arc, path in _tree(graded.master / "grading", f"{master}/grading")})
    return contents


def zip_bytes(contents):
    """A deterministic zip of {arcname: bytes}."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for arcname in sorted(contents):
            info = zipfile.ZipInfo(arcname, date_time=FIXED_TIME)
            info.create_system = 3  # Unix, so that unzip restores the permissions below
            mode = 0o755 if arcname in EXECUTABLES else 0o644
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, contents[arcname], compresslevel=9)
    return buffer.getvalue()


def build_bundle(target, graded, grading_options=()):
    """Write the bundle to ``target`` and return its path."""
    target = Path(target)
    write_atomic_bytes(target, zip_bytes(bundle_contents(graded, grading_options)))
    return target
