"""Find the submissions in what an instructor hands the grader.

Each path given to ``python -m autograder grade`` is one of:

- a submission folder: it holds a student module of the assignment (for batchnorm,
  ``preprocessing.py``, ``initializers.py`` or ``batchnorm.py``), or an ``<assignment>/``
  folder that does (one student's folder of
  nbgrader's layout); a folder with none of them is one submission with no modules;
- a class folder: its subfolders are submissions (``CLASS/<student>/``, nbgrader's
  ``submitted/<student>/<assignment>/``), and its ``.zip`` files are too;
- Gradescope's "export submissions" folder: ``submission_metadata.yml`` beside
  ``submission_<id>/`` folders, each named after its student(s) from the metadata;
- a ``.zip`` file of any of these (a zip that wraps everything in one folder is opened
  one level down). Zips are unpacked into a private temporary folder, refused whole if
  any entry is absolute, climbs out with ``..``, is a link or a device, or if the zip is
  too large (all zips of a run share one bound); only the Python files, zips and
  Gradescope's metadata are unpacked.

Inside a submission the modules may sit up to ``MAX_DEPTH`` folders down, when exactly
one folder there holds them (a student who uploaded a zipped folder), except in nbgrader's
layout, where only ``<assignment>/`` counts. Links are never followed, anywhere below the
paths given.
"""
import contextlib
import os
import re
import shutil
import stat
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import yaml

GRADESCOPE_METADATA = "submission_metadata.yml"
MAX_DEPTH = 3
ZIP_MAX_ENTRIES = 20_000
ZIP_MAX_FILE_BYTES = 16 << 20  # far above any module the grader would read (1 MiB)
ZIP_MAX_TOTAL_BYTES = 512 << 20
_UNPACKED = re.compile(r"(\.py|\.zip|/" + re.escape(GRADESCOPE_METADATA) + r")$")  # all that grading reads


class UsageError(Exception):
    """The instructor's input cannot be graded at all; the message is one sentence."""


class ZipRefused(Exception):
    """A zip that is unsafe or unreadable; the message names the zip and why."""


@dataclass(frozen=True)
class Submission:
    """One row of the class: ``folder`` holds (or would hold) the student modules."""
    name: str  # the student id, or the folder or zip name when there is none
    folder: Path
    source: str  # where it came from, as the instructor gave it
    status: str = "graded"  # or why nothing can be graded: "no modules found", "zip refused"
    reason: str = ""  # for a zip refused: why
    students: tuple = ()  # Gradescope's submitters: ({"name", "sid", "email"}, ...)


def _kind(path):
    """The file type of ``path`` itself: a link is a link, never what it points at."""
    try:
        return stat.S_IFMT(os.lstat(path).st_mode)
    except OSError:
        return None


def _is_file(path):
    return _kind(path) == stat.S_IFREG


def _is_folder(path):
    return _kind(path) == stat.S_IFDIR


def holds_modules(folder, graded):
    """Whether ``folder`` holds any of the assignment's student modules as a regular
    file (a link is not one)."""
    return any(_is_file(Path(folder) / name) for name in graded.spec.modules)


def _children(folder):
    """Real subfolders and .zip files of ``folder``, sorted; hidden, cache and macOS
    resource folders (``.x``, ``__x``) left out, links never followed."""
    try:
        with os.scandir(folder) as entries:
            found = [(e.name, e.is_dir(follow_symlinks=False)) for e in entries
                     if not e.name.startswith((".", "__"))
                     and (e.is_dir(follow_symlinks=False)
                          or (e.name.lower().endswith(".zip") and e.is_file(follow_symlinks=False)))]
    except OSError:
        return [], []
    folders = [Path(folder) / name for name, is_dir in sorted(found) if is_dir]
    zips = [Path(folder) / name for name, is_dir in sorted(found) if not is_dir]
    return folders, zips


def modules_folder(folder, graded, depth=MAX_DEPTH):
    """The folder that holds the student's modules of assignment ``graded``: ``folder``
    itself, its ``<assignment>/`` folder, or the only folder below it that holds any (up
    to ``depth`` levels); None when there is none or more than one could be meant."""
    if holds_modules(folder, graded):
        return folder
    named = Path(folder) / graded.name
    if _is_folder(named):
        return modules_folder(named, graded, depth)
    if depth == 0:
        return None
    found = [f for f in (modules_folder(child, graded, depth - 1) for child in _children(folder)[0]) if f]
    return found[0] if len(found) == 1 else None


def _one_submission(folder, name, where, graded, depth=MAX_DEPTH, **fields):
    found, status = modules_folder(folder, graded, depth), "graded"
    if found is None:
        named = folder / graded.name
        found, status = (named if _is_folder(named) else folder), "no modules found"
    return Submission(name, found, where(found), status, **fields)


def _safe_parts(info, zip_path):
    """The entry's path as folder names, after refusing what could land outside the
    unpacking folder or make a link or a device there."""
    name = info.filename.replace("\\", "/")
    kind = stat.S_IFMT(info.external_attr >> 16)
    if name.startswith("/") or re.match(r"[A-Za-z]:", name):
        raise ZipRefused(f"{zip_path} was refused: its entry {info.filename!r} is an absolute path")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise ZipRefused(f"{zip_path} was refused: its entry {info.filename!r} climbs out with '..'")
    if kind and kind not in (stat.S_IFREG, stat.S_IFDIR):
        what = "a link" if kind == stat.S_IFLNK else "not a regular file"
        raise ZipRefused(f"{zip_path} was refused: its entry {info.filename!r} is {what}")
    return parts


def unpack_zip(zip_path, target, budget=ZIP_MAX_TOTAL_BYTES):
    """Unpack the Python files, zips (a class's student zips) and Gradescope metadata
    of ``zip_path`` into the empty private folder ``target``, with every folder of the
    zip, writing at most ``budget`` bytes; return how many were written. Every entry is
    checked before anything is written; sizes are counted as bytes arrive, never
    trusted from the zip's directory."""
    try:
        with zipfile.ZipFile(zip_path) as archive:
            entries = archive.infolist()
            if len(entries) > ZIP_MAX_ENTRIES:
                raise ZipRefused(f"{zip_path} was refused: it has more than {ZIP_MAX_ENTRIES} entries")
            planned = [(info, _safe_parts(info, zip_path)) for info in entries]
            written = 0
            for info, parts in planned:
                if not parts:
                    continue
                path = target.joinpath(*parts)
                if info.is_dir():
                    path.mkdir(parents=True, exist_ok=True)
                    continue
                path.parent.mkdir(parents=True, exist_ok=True)
                if _UNPACKED.search("/" + "/".join(parts)):
                    written += _extract(archive, info, path, min(budget - written, ZIP_MAX_FILE_BYTES), zip_path)
            return written
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, RuntimeError, NotImplementedError) as err:
        raise ZipRefused(f"{zip_path} could not be unpacked ({err})") from err


def _extract(archive, info, path, limit, zip_path):
    written = 0
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as out, archive.open(info) as source:
        while chunk := source.read(1 << 20):
            written += len(chunk)
            if written > limit:
                raise ZipRefused(f"{zip_path} was refused: it unpacks to more than "
                                 f"{ZIP_MAX_FILE_BYTES >> 20} MiB in one file or {ZIP_MAX_TOTAL_BYTES >> 20} MiB "
                                 "for all the zips of one run")
            out.write(chunk)
    return written


class _TolerantLoader(yaml.SafeLoader):
    """Safe YAML that reads Ruby-tagged values (Gradescope's exports carry some) as
    plain data instead of failing."""


def _untagged(loader, suffix, node):
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_scalar(node)


_TolerantLoader.add_multi_constructor("!", _untagged)


def _field(submitter, key):
    """A submitter's field, written ``:sid:`` by Gradescope (``sid:`` accepted too)."""
    value = submitter.get(f":{key}", submitter.get(key))
    return "" if value is None else str(value).strip()


def gradescope_submitters(metadata):
    """{``submission_<id>``: ({"name", "sid", "email"}, ...)} from Gradescope's
    ``submission_metadata.yml``; entries or fields it lacks are simply absent."""
    try:
        data = yaml.load(Path(metadata).read_text(encoding="utf-8", errors="replace"), Loader=_TolerantLoader)
    except (OSError, yaml.YAMLError) as err:
        raise UsageError(f"{metadata} is not readable Gradescope metadata ({type(err).__name__}); "
                         "export the submissions again") from err
    if not isinstance(data, dict):
        raise UsageError(f"{metadata} is not Gradescope's submission metadata (no submission_<id> entries)")
    found = {}
    for key, entry in data.items():
        submitters = entry.get(":submitters", entry.get("submitters")) if isinstance(entry, dict) else None
        found[str(key)] = tuple({k: _field(s, k) for k in ("name", "sid", "email")}
                                for s in (submitters if isinstance(submitters, list) else ())
                                if isinstance(s, dict))
    return found


def _student_id(submitter):
    return submitter["sid"] or submitter["name"] or submitter["email"].split("@")[0]


class Finder:
    """Turns the paths an instructor gives into Submissions; zips are unpacked into a
    private folder that lives as long as the Finder's ``with`` block."""

    def __init__(self, graded):
        self.graded = graded
        self._stack = contextlib.ExitStack()
        self._scratch = None
        self._budget = ZIP_MAX_TOTAL_BYTES  # shared by every zip, nested ones included

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._stack.close()

    def find(self, paths):
        """The submissions under ``paths``, in order. UsageError when a path does not
        exist, cannot be read, or is a zip that cannot be unpacked safely."""
        for path in map(Path, paths):
            if not os.path.lexists(path):
                raise UsageError(f"{path} does not exist")
            if not (path.is_dir() or (path.is_file() and path.suffix.lower() == ".zip")):
                raise UsageError(f"{path} is neither a folder nor a .zip file")
            try:
                if path.is_dir():
                    os.scandir(path).close()
                else:
                    open(path, "rb").close()
            except OSError as err:
                raise UsageError(f"{path} cannot be read ({err.strerror})") from err
        return [s for path in map(Path, paths) for s in self._find(path)]

    def _find(self, path):
        if path.is_file():
            try:
                root = self._unpack(path)
            except ZipRefused as err:
                raise UsageError(str(err)) from err
            return self._in_folder(self._unwrapped(root), path.stem, _inside(root, path))
        name = path.resolve().name
        if name == self.graded.name and path.resolve().parent.name:
            name = path.resolve().parent.name  # submitted/<student>/<assignment>: the student
        return self._in_folder(path, name, str)

    def _unpack(self, zip_path):
        if self._scratch is None:
            self._scratch = Path(self._stack.enter_context(tempfile.TemporaryDirectory(prefix="autograder-zips-")))
        target = Path(tempfile.mkdtemp(dir=self._scratch))
        try:
            self._budget -= unpack_zip(zip_path, target, self._budget)
        except ZipRefused:
            shutil.rmtree(target)  # a refused zip's partial files count against no one
            raise
        return target

    def _unwrapped(self, root):
        """A zip's folder to search: its only top folder when everything sits in one."""
        folders, zips = _children(root)
        if not holds_modules(root, self.graded) and not _is_file(root / GRADESCOPE_METADATA) and len(folders) == 1 \
                and not zips:
            return folders[0]
        return root

    def _in_folder(self, folder, name, where):
        if _is_file(folder / GRADESCOPE_METADATA):
            return self._gradescope(folder, where)
        folders, zips = _children(folder)
        named = self.graded.name
        is_class = not holds_modules(folder, self.graded) and not _is_folder(folder / named) and (
            zips or any(modules_folder(f, self.graded) or _is_folder(f / named) for f in folders))
        if not is_class:
            return [_one_submission(folder, name, where, self.graded)]
        # nbgrader's layout (a student holds <assignment>/): other folders are other assignments
        depth = 0 if any(_is_folder(f / named) for f in folders) else MAX_DEPTH
        return [_one_submission(f, f.name, where, self.graded, depth) for f in folders] + [
            self._student_zip(z, where) for z in zips]

    def _student_zip(self, zip_path, where):
        """A student's zip inside a class: a refusal costs that student, not the class."""
        try:
            root = self._unpack(zip_path)
        except ZipRefused as err:
            return Submission(zip_path.stem, zip_path, where(zip_path), "zip refused", reason=str(err))
        inside = _inside(root, Path(where(zip_path)))
        return _one_submission(self._unwrapped(root), zip_path.stem, inside, self.graded)

    def _gradescope(self, folder, where):
        submitters = gradescope_submitters(folder / GRADESCOPE_METADATA)
        found = []
        for child in _children(folder)[0]:
            students = submitters.get(child.name, ())
            name = "+".join(filter(None, map(_student_id, students))) or child.name
            found.append(_one_submission(child, name, where, self.graded, students=students))
        return found


def _inside(root, zip_path):
    """Where a folder unpacked from ``zip_path`` came from: ``ZIP:relative/folder``, or
    ``ZIP`` for its top."""
    def where(folder):
        relative = Path(folder).relative_to(root).as_posix()
        return str(zip_path) if relative == "." else f"{zip_path}:{relative}"
    return where


def submission_at(folder, graded):
    """The Submission of one folder given directly, named by the folder."""
    folder = Path(folder)
    return _one_submission(folder, folder.name, str, graded)
