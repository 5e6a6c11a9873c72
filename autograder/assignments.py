"""The registry of assignments.

A course is a folder like nbgrader's: ``assignment/NAME/`` is the master of one
assignment (what nbgrader releases), and its ``grading/`` package says how it is
graded: ``ASSIGNMENT`` (the interface: functions, modules, groups), ``public/`` (the
public checks and their stored answers), ``hidden/`` (``CHECKS``),
``misconceptions.py`` (``CATALOGUE``) and, optionally, ``demo.py`` (``BROKEN``: extra
demo submissions). ``grading/`` is imported as the package ``assignment.NAME.grading``
with the course folder on ``sys.path``, so a new assignment needs no edit outside its
folder.
"""
import functools
import importlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # this repository: the course the package ships with
FOLDER = "assignment"  # nbgrader's source folder, inside a course


class UnknownAssignment(LookupError):
    """No assignment of that name, or no single default."""


def course_root(course=None):
    """The course: ``course`` if given, else the working folder when it is one (as
    nbgrader does), else this repository."""
    if course is not None:
        return Path(course).resolve()
    here = Path.cwd()
    return here if (here / FOLDER).is_dir() else ROOT


def names(course=None):
    """The names of the course's assignments, sorted."""
    folder = course_root(course) / FOLDER
    return sorted(p.parent.parent.name for p in folder.glob("*/grading/__init__.py"))


@dataclass(frozen=True)
class Graded:
    """One assignment of a course, with everything the grader needs of it."""
    name: str
    course: Path

    @property
    def master(self):
        """The instructor's folder: modules with their solutions, notebooks, given code."""
        return self.course / FOLDER / self.name

    @property
    def release(self):
        """The student version, generated from the master."""
        return self.course / "release" / self.name

    @property
    def solutions(self):
        """The solution version, generated from the master."""
        return self.course / "solutions" / self.name

    @functools.cached_property
    def package(self):
        package = _import(self.course, f"{FOLDER}.{self.name}.grading")
        if Path(package.__file__).resolve().parent != self.master / "grading":
            # One process imports one package of a name: a second course's namesake would be
            # graded with the first one's checks.
            raise UnknownAssignment(f"{self.name} of {self.course} cannot be graded in a process that already "
                                    f"graded {self.name} of {Path(package.__file__).parents[3]}; use a process "
                                    "per course")
        return package

    @property
    def spec(self):
        """The kit's ``Assignment``: functions, their modules, and the groups."""
        return self.package.ASSIGNMENT

    @functools.cached_property
    def public_checks(self):
        return list(_import(self.course, f"{self.package.__name__}.public").suite.checks)

    @property
    def public_folder(self):
        """Where the public checks and their stored answers (``expected.json``) live."""
        return self.master / "grading" / "public"

    @functools.cached_property
    def checks(self):
        """The full grading suite: the public checks first, then the hidden ones."""
        return [*self.public_checks, *_import(self.course, f"{self.package.__name__}.hidden").CHECKS]

    @functools.cached_property
    def catalogue(self):
        return tuple(_import(self.course, f"{self.package.__name__}.misconceptions").CATALOGUE)

    @functools.cached_property
    def broken(self):
        """Demo submissions beyond one per known mistake (a syntax error, a hang...)."""
        try:
            module = _import(self.course, f"{self.package.__name__}.demo")
        except ModuleNotFoundError as err:
            if err.name != f"{self.package.__name__}.demo":
                raise
            return ()
        return tuple(module.BROKEN)

    def module_of(self, function):
        return self.spec.functions[function]


DEFAULT = "batchnorm"  # the default when a course holds several


def load(name=None, course=None):
    """The assignment ``name`` of the course (default: its only one, or ``DEFAULT``);
    a ``Graded`` is returned as it is."""
    if isinstance(name, Graded):
        return name
    return _load(name, course_root(course))


@functools.cache
def _load(name, root):
    available = names(root)
    if name is None:
        if len(available) != 1 and DEFAULT not in available:
            raise UnknownAssignment(f"{root / FOLDER} holds {len(available)} assignments "
                                    f"({', '.join(available) or 'none'}); choose one with --assignment NAME")
        name = available[0] if len(available) == 1 else DEFAULT
    if name not in available:
        raise UnknownAssignment(f"no assignment {name!r} in {root / FOLDER} "
                                f"(it holds {', '.join(available) or 'none'})")
    return Graded(name, root)


def _import(course, module):
    """Import ``module`` from ``course``, which goes on ``sys.path`` if it is not there."""
    if not any(Path(entry or os.curdir).resolve() == course for entry in sys.path):
        sys.path.insert(0, str(course))  # ahead of the working folder, which may be another course
    return importlib.import_module(module)
