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

from ..hosted import grader_files, pinned_requirements
from ..reports.files import write_atomic_bytes

HERE = Path(__file__).resolve().parent
EXECUTABLES = ("setup.sh", "run_autograder")
FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can hold


def bundle_contents(graded, grading_options=()):
    """{arcname: bytes} of the bundle of assignment ``graded``; ``grading_options`` (e.g.
    ["--hidden-visibility", "after_due_date"]) are baked into run_autograder as the
    options of every grading, after the assignment's name."""
    options = shlex.join(["--assignment", graded.name, *grading_options])
    run_autograder = (HERE / "run_autograder").read_text().replace("@GRADING_OPTIONS@", options)
    contents = {"setup.sh": (HERE / "setup.sh").read_bytes(),
                "run_autograder": run_autograder.replace(" \n", "\n").encode(),
                "requirements.txt": pinned_requirements().encode()}
    contents.update(grader_files(graded))
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
