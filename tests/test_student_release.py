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
