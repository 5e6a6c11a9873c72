"""What students get besides the exercise: a README, pinned requirements, and a
self-check that explains a missing numpy in one sentence."""
import shutil
import subprocess
import sys

import nbformat
import pytest

from builder.build import BuildError, pin_requirements
from conftest import RELEASE, ROOT


def pinned(path):
    return {name.lower(): version for name, _, version in
            (line.partition("==") for line in path.read_text().splitlines() if "==" in line)}


def test_release_requirements_are_the_courses_pins_for_what_the_assignment_imports():
    student = pinned(RELEASE / "requirements.txt")
    assert set(student) == {"numpy", "jupyter", "matplotlib", "scikit-learn", "threadpoolctl"}
    course = pinned(ROOT / "requirements.txt")
    assert all(course[name] == version for name, version in student.items())


def test_pinning_names_a_package_the_course_does_not_pin(tmp_path):
    (tmp_path / "requirements.txt").write_text("numpy\nnot-a-course-package\n")
    with pytest.raises(BuildError, match="names not-a-course-package, which requirements.txt does not pin"):
        pin_requirements(tmp_path)


def test_readme_says_what_to_install_and_how_to_check():
    readme = (RELEASE / "README.md").read_text()
    cells = [c for path in sorted(RELEASE.glob("*.ipynb")) for c in nbformat.read(path, as_version=4).cells]
    points = sum(c.metadata.get("nbgrader", {}).get("points", 0) for c in cells)
    for words in ("pip install -r requirements.txt", "python -m selfcheck", "make grade", f"{points:g} points"):
        assert words in readme


def test_selfcheck_without_numpy_says_so_in_one_sentence(tmp_path):
    """A folder ahead of site-packages holds a numpy that cannot be imported."""
    fake = tmp_path / "no-numpy" / "numpy"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('No module named numpy')\n")
    folder = tmp_path / "batchnorm"
    shutil.copytree(RELEASE, folder, ignore=shutil.ignore_patterns("__pycache__"))
    done = subprocess.run([sys.executable, "-m", "selfcheck"], cwd=folder, capture_output=True, text=True,
                          env={"PYTHONPATH": str(fake.parent), "PATH": "/usr/bin:/bin"})
    assert (done.returncode, done.stdout, done.stderr) == (
        1, "", "numpy is not installed: pip install -r requirements.txt\n")


def test_readme_gives_the_folder_argument_and_the_totals_as_they_are():
    readme = (RELEASE / "README.md").read_text()
    for words in ("python -m selfcheck FOLDER", "65 points", "78 points", "python -m selfcheck --help"):
        assert words in readme


def run_selfcheck(*args, cwd=RELEASE):
    return subprocess.run([sys.executable, "-m", "selfcheck", *args], cwd=cwd, capture_output=True, text=True)


def test_selfcheck_answers_help_and_rejects_unknown_options_and_missing_folders(tmp_path):
    done = run_selfcheck("--help")
    assert done.returncode == 0 and done.stdout.startswith("usage: python -m selfcheck") and "folder" in done.stdout
    for args, why in ((["--bogus"], "unrecognized arguments: --bogus"),
                      ([str(tmp_path / "nowhere")], "is not a folder")):
        done = run_selfcheck(*args)
        assert (done.returncode, done.stdout) == (2, "") and "usage:" in done.stderr and why in done.stderr


def test_selfcheck_grades_the_folder_it_is_given(tmp_path):
    """The release's own stubs score 0; a copy of the solution modules elsewhere scores every public point."""
    folder = tmp_path / "work"
    shutil.copytree(RELEASE.parent.parent / "solutions" / "batchnorm", folder,
                    ignore=shutil.ignore_patterns("__pycache__", "*.ipynb", "selfcheck", "executed"))
    done = run_selfcheck(str(folder))
    total = next(line for line in done.stdout.splitlines() if line.startswith("total"))
    score, _, maximum = total.split()[1:4]
    assert done.returncode == 0 and score == maximum, done.stdout
    assert next(line for line in run_selfcheck().stdout.splitlines() if line.startswith("total")).split()[1] == "0"
