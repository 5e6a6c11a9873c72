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
  one level down).

Inside a submission the modules are found by ``find_modules``, the one rule every front
end shares, for each student's folder on its own: up to ``MAX_DEPTH`` folders down, in the
shallowest folder that holds any when it is the only one at its level (a student who
uploaded a zipped folder), except in nbgrader's layout, where only ``<assignment>/``
counts. Links are never followed, anywhere below the paths given: an entry of a class
folder that is a link is a row that says so, and any other file there a warning.

Zips are unpacked into a private temporary folder, each within a budget of its own
(``ZipLimits``: entries, files, folders, bytes, and a cap on how much an entry may
grow), so that no zip uses up another's share. Only what grading reads is unpacked:
the Python files of folders that hold a student module, a class's student zips (each
copied out of the class's zip when its turn comes) and Gradescope's metadata, in the
folders of the zip's top levels, which tell its layout. A bad entry (an absolute path,
``..``, a link, a damaged, encrypted or exploding stream) costs the submission whose
folder holds it, which is refused with a sentence; a zip that cannot be read, or that
would unpack beyond its budget, costs what it holds: a student's zip is that student's
row, a zip named on the command line is refused before anything is graded.

Every name and path that reaches a Submission is made valid Unicode, without control
characters, and bounded (``reports.escape.shown``).
"""
import contextlib
import functools
import hashlib
import lzma
import os
import re
import shutil
import stat
import struct
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from .assignments import UnknownAssignment, load, names
from .grade import MAX_MODULE_BYTES
from .reports.escape import NAME_LIMIT, shown
from .reports.files import held_folder

GRADESCOPE_METADATA = "submission_metadata.yml"
MAX_DEPTH = 3
# Where a zip's layout is read: a wrapping folder, a class, a student, <assignment>/.
LAYOUT_DEPTH = 4
# Entries deeper than this are never graded: no folder search reaches them.
MAX_ZIP_DEPTH = LAYOUT_DEPTH + MAX_DEPTH + 4
LINK_REASON = "it is a link, and links are never followed; pass the folder or zip it points to if you trust it"
LINK_NOTICE = ("Nothing was graded: your submission reached the grader as a link, which the grader never follows. "
               "Submit the folder or the zip itself.")
SOURCE_LIMIT = 400  # characters of where a submission came from
NAME_MAX = 255  # bytes of one file name on Linux
RATIO_GRACE = 100 << 10  # an entry may unpack this much before its ratio counts
# What reading a damaged or hostile zip raises, from its directory to its last byte.
UNREADABLE = (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, RuntimeError, NotImplementedError,
              ValueError, zlib.error, lzma.LZMAError, struct.error)


@dataclass(frozen=True)
class ZipLimits:
    """What unpacking one zip may cost. Every zip has a budget of its own: a zip named
    on the command line, a student's zip in a class folder, a student's zip inside a
    class's zip."""
    entries: int = 50_000  # entries in its directory (counted before anything is written)
    files: int = 10_000  # files written
    folders: int = 10_000  # folders made
    bytes: int = 512 << 20  # bytes written, all files together
    ratio: int = 100  # bytes an entry may unpack to per byte it holds (past RATIO_GRACE)


ZIP_LIMITS = ZipLimits()


class UsageError(Exception):
    """The instructor's input cannot be graded at all; the message is one sentence."""


class ZipRefused(Exception):
    """A zip that cannot be unpacked safely or within its budget; the message says
    why, of the zip ("it has more than 50000 entries", "its entry 'x.py' is a link")."""


class EntryRefused(Exception):
    """One entry of a zip that cannot be unpacked; the message says why, of the
    entry ("is damaged (...)")."""


@dataclass(frozen=True)
class Submission:
    """One row of the class: ``folder`` holds (or would hold) the student modules."""
    name: str  # the student id, or the folder or zip name when there is none
    folder: Path
    source: str  # where it came from, as the instructor gave it
    status: str = "graded"  # or why nothing can be graded: "no modules found", "zip refused", ...
    reason: str = ""  # why, as a clause ("its entry 'x.py' is a link"), when there is more to say
    students: tuple = ()  # Gradescope's submitters: ({"name", "sid", "email"}, ...)
    notice: str = ""  # when no folder holds the modules: the sentence the student reads
    other: str = ""  # the course's other assignment whose modules it holds instead, if any


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


def _ignored(name):
    """Hidden, cache and macOS resource folders and files (``.x``, ``__x``)."""
    return name.startswith((".", "__"))


def holds_modules(folder, graded):
    """Whether ``folder`` holds any of the assignment's student modules as a regular
    file (a link is not one)."""
    return any(_is_file(Path(folder) / name) for name in graded.spec.modules)


def _others(folder):
    """The entries of ``folder`` that _children leaves out, but for hidden, cache and
    macOS resource ones: links, and files that are not zips; sorted."""
    folders, zips = _children(folder)
    try:
        with os.scandir(folder) as entries:
            names = sorted(e.name for e in entries if not _ignored(e.name))
    except OSError:
        return []
    return [Path(folder) / name for name in names if Path(folder) / name not in {*folders, *zips}]


def _children(folder):
    """Real subfolders and .zip files of ``folder``, sorted; hidden, cache and macOS
    resource folders left out, links never followed."""
    try:
        with os.scandir(folder) as entries:
            found = [(e.name, e.is_dir(follow_symlinks=False)) for e in entries
                     if not _ignored(e.name)
                     and (e.is_dir(follow_symlinks=False)
                          or (e.name.lower().endswith(".zip") and e.is_file(follow_symlinks=False)))]
    except OSError:
        return [], []
    folders = [Path(folder) / name for name, is_dir in sorted(found) if is_dir]
    zips = [Path(folder) / name for name, is_dir in sorted(found) if not is_dir]
    return folders, zips


@dataclass(frozen=True)
class Search:
    """Where a submission's modules are: ``folder``, or None when no folder holds
    any (``other``: then the name of another assignment of the course whose modules
    are there, if any) or several could be meant (``several``: those folders);
    ``links``: the links met on the way (relative to the submission), never followed."""
    folder: Path | None
    several: tuple = ()
    other: str = ""
    links: tuple = ()
    python: tuple = ()  # when none is found: the names of the Python files at its top, if any


def find_modules(submission, graded, depth=MAX_DEPTH):
    """The one rule every front end uses to find the student's modules of assignment
    ``graded`` in ``submission`` (a student's folder, or what they uploaded): the
    folder itself when it holds any; in nbgrader's layout (it holds a folder named
    like one of the course's assignments) its ``<assignment>/`` folder alone; else
    the shallowest folder below that holds any, at most ``depth`` levels down (an
    upload of a zipped folder), and none when two at that level do. Links are never
    entered, so the folder found always lies inside ``submission``."""
    found, links, python = _shallowest(Path(submission), graded, depth)
    if len(found) == 1:
        return Search(found[0], links=links)
    if found:
        return Search(None, several=tuple(found), links=links)
    return Search(None, other=_other_assignment(submission, graded, depth), links=links, python=python)


def _shallowest(submission, graded, depth):
    """(the folders of find_modules' rule that hold modules, at one level; the links
    met in the folders searched; the names of the Python files at the top)."""
    links, python, folders = [], set(), [submission]
    for level in range(depth + 1):
        found = [f for f in folders if holds_modules(f, graded)]
        below = []
        for folder in folders:
            children, met, files = _subfolders(folder)
            links += [str((folder / name).relative_to(submission)) for name in met]
            if level == 0:
                python.update(name for name in files if name.endswith(".py"))
            below += children
        if found or level == depth:
            break
        if level == 0 and {f.name for f in below} & course_assignments(graded):
            # nbgrader's layout: the other folders are other assignments
            found = [f for f in below if f.name == graded.name and holds_modules(f, graded)]
            break
        folders = below
    return found, tuple(links), tuple(sorted(python))


def course_assignments(graded):
    """The names of the assignments of ``graded``'s course (``graded``'s own at least)."""
    course = getattr(graded, "course", None)
    return {graded.name, *(names(course) if course is not None else ())}


def _others_of(graded):
    """The course's other assignments that ``graded``'s grader can load."""
    found = []
    for name in sorted(course_assignments(graded) - {graded.name}):
        try:
            other = load(name, graded.course)
            if other.spec.modules:  # its grading package loads
                found.append(other)
        except (UnknownAssignment, ImportError, SyntaxError):  # not this grader's to judge
            continue
    return found


def _other_assignment(submission, graded, depth):
    """The name of another assignment of the course whose modules ``submission``
    holds where ``graded``'s would be found, or ""."""
    return next((other.name for other in _others_of(graded)
                 if set(other.spec.modules) - set(graded.spec.modules)
                 and _shallowest(Path(submission), other, depth)[0]), "")


def _subfolders(folder):
    """(real subfolders of ``folder``, sorted, hidden and cache ones left out; the
    names of its entries that are links; the names of its regular files)."""
    try:
        with os.scandir(folder) as entries:
            kinds = [(e.name, e.is_dir(follow_symlinks=False), e.is_symlink(), e.is_file(follow_symlinks=False))
                     for e in entries if not _ignored(e.name)]
    except OSError:
        return [], [], []
    return ([Path(folder) / name for name, is_dir, _, _ in sorted(kinds) if is_dir],
            sorted(name for name, _, link, _ in kinds if link), [name for name, _, _, file in kinds if file])


def unfound(search, graded):
    """(status, reason, the student's sentence) of a submission whose ``search``
    found no folder to grade."""
    modules = ", ".join(graded.spec.modules)
    if search.several:
        named = [repr(shown(f.name, NAME_LIMIT)) for f in search.several[:2]]
        if len(search.several) > 2:
            reason = f"the folders {', '.join(named)} and {len(search.several) - 2} more each hold modules"
        else:
            reason = f"the folders {' and '.join(named)} both hold modules"
        return ("modules in several folders", reason,
                f"Nothing was graded: {reason}, and the grader cannot tell which one you meant. Submit one "
                f"folder (or the .py files themselves: {modules}).")
    if search.other:
        reason = f"it holds the {search.other} assignment's modules, not {graded.name}'s"
        return ("no modules found", reason,
                f"Nothing was graded: your submission holds the modules of the assignment {search.other}, but "
                f"this is {graded.name}, whose modules are {modules}. Submit those files.")
    if search.python:
        held = ", ".join(shown(name, NAME_LIMIT) for name in search.python[:3]) + (
            f" and {len(search.python) - 3} more" if len(search.python) > 3 else "")
        return ("no modules found", f"it holds {held}",
                f"No student module of this assignment ({modules}) was found in your submission, which holds "
                f"{held}, so nothing could be graded: submit these modules, with these names.")
    return "no modules found", "", no_modules(graded)


def no_modules(graded):
    """The sentence of a submission that holds none of the assignment's modules."""
    return (f"No student module ({', '.join(graded.spec.modules)}) was found in your submission, so nothing "
            "could be graded: submit the .py files themselves, not only the notebooks.")


def _one_submission(folder, name, where, graded, refused="", **fields):
    """The row of the student whose folder is ``folder``; ``refused`` says why a zip
    they sent was refused, if it was."""
    if refused:
        return _row(name, folder, where(folder), "zip refused", refused, **fields)
    search = find_modules(folder, graded)
    if search.folder is not None:
        return _row(name, search.folder, where(search.folder), "graded", **fields)
    status, reason, notice = unfound(search, graded)
    named = folder / graded.name
    found = named if _is_folder(named) else folder
    return _row(name, found, where(found), status, reason, notice=notice, other=search.other, **fields)


def _row(name, folder, source, status, reason="", students=(), notice="", other=""):
    return Submission(shown(name), folder, shown(source, SOURCE_LIMIT), status, reason, students, notice, other)


def _size(count):
    return f"{count >> 20} MiB" if count >= 1 << 20 else f"{count} bytes"


def _quoted(name):
    return repr(shown(name, NAME_LIMIT))


def _disk_name(part):
    """A name from a zip as a file name this system can hold: a name longer than
    NAME_MAX bytes is cut, with a digest of the whole to keep it unique."""
    encoded = part.encode("utf-8")
    if len(encoded) <= NAME_MAX:
        return part
    return encoded[:NAME_MAX - 40].decode("utf-8", "ignore") + "-" + hashlib.sha256(encoded).hexdigest()[:16]


def _entry(info):
    """(folder names of the entry, why it is refused or "", whether it escapes): an
    entry that is absolute or climbs out with '..' escapes the unpacking folder and
    is refused wherever it is, answered for by the folder it names before that; a
    link or a device is refused where grading would read it."""
    name = info.filename.replace("\\", "/")
    absolute = name.startswith("/") or re.match(r"[A-Za-z]:", name)
    parts = [_disk_name(p) for p in re.sub(r"^[A-Za-z]:", "", name).split("/") if p not in ("", ".")]
    kind = stat.S_IFMT(info.external_attr >> 16)
    if absolute:
        return parts[:-1], "is an absolute path", True
    if ".." in parts:
        return parts[:parts.index("..")], "climbs out of the zip with '..'", True
    if kind and kind not in (stat.S_IFREG, stat.S_IFDIR):
        return parts, "is a link" if kind == stat.S_IFLNK else "is not a regular file", False
    return parts, "", False


class Unpacked:
    """A zip's unpacked folder, and what was left out of it: ``problems`` maps the
    folder each bad entry would have landed in to why it was refused, ``nested`` the
    place of each student zip inside (an empty file until its turn) to its entry."""

    def __init__(self, root):
        self.root, self.problems, self.nested, self._charged = root, {}, {}, set()
        self.links = []  # where the links among a class zip's top entries would be, never made

    def charge(self, folder=None):
        """Why the submission in ``folder`` (None: the whole zip) is refused, or "":
        the first bad entry in or below it. Every bad entry it finds is answered for."""
        found = [where for where in self.problems
                 if folder is None or where == folder or folder in where.parents]
        self._charged.update(found)
        return self.problems[found[0]] if found else ""

    def uncharged(self):
        """The bad entries in no submission's folder, as sentences' clauses."""
        return [why for where, why in self.problems.items() if where not in self._charged]


def _kept(name):
    """How much of a file to unpack: a module over MAX_MODULE_BYTES is never read, so
    its first bytes and one more tell the grader so; None: all of it."""
    return MAX_MODULE_BYTES + 1 if str(name).endswith(".py") else None


def _student_zip(parts):
    """Whether the file at ``parts`` of a class's zip is a student's zip (see _wanted)."""
    return parts[-1].lower().endswith(".zip")


def _wanted(parts, module_folders, class_zip):
    """Whether grading reads the file at ``parts``: a Python file of a folder that
    holds a student module; for a zip named on the command line, a student zip or
    Gradescope's metadata at its top (or one folder down, inside a wrapping folder)."""
    if len(parts) > MAX_ZIP_DEPTH or any(_ignored(p) for p in parts):
        return False
    if parts[-1].endswith(".py") and tuple(parts[:-1]) in module_folders:
        return True
    return class_zip and len(parts) <= 2 and (_student_zip(parts) or parts[-1] == GRADESCOPE_METADATA)


def _plan(archive, target, modules, class_zip, limits, unpacked):
    """What to make, checked against the budget before anything is written:
    (folders, [(info, path)] of the files to write)."""
    infos = archive.infolist()
    if len(infos) > limits.entries:
        raise ZipRefused(f"it has more than {limits.entries} entries")
    entries = []
    for info in infos:
        parts, why, escapes = _entry(info)
        if escapes:
            unpacked.problems.setdefault(target.joinpath(*parts), f"its entry {_quoted(info.filename)} {why}")
        elif parts:
            entries.append((info, parts, why))
            if class_zip and why == "is a link" and len(parts) <= 2 and not parts[-1].endswith(".py") \
                    and not any(_ignored(p) for p in parts):
                unpacked.links.append(target.joinpath(*parts))  # a student's folder or zip, perhaps
    module_folders = {tuple(parts[:-1]) for info, parts, _ in entries if not info.is_dir() and parts[-1] in modules}
    files = []
    for info, parts, why in entries:
        if info.is_dir() or not _wanted(parts, module_folders, class_zip):
            continue
        if target.joinpath(*parts) in unpacked.links:
            continue  # a row of its own
        if why:
            unpacked.problems.setdefault(target.joinpath(*parts[:-1]), f"its entry {_quoted(info.filename)} {why}")
        else:
            files.append((info, parts))
    folders = {tuple(parts[:n]) for info, parts, _ in entries
               for n in range(1, min(len(parts) - (not info.is_dir()), LAYOUT_DEPTH) + 1)
               if not any(_ignored(p) for p in parts[:n])}
    folders |= {tuple(parts[:n]) for _, parts in files for n in range(1, len(parts))}
    if len(files) > limits.files:
        raise ZipRefused(f"it would unpack more than {limits.files} files")
    size = sum(min(info.file_size, _kept(parts[-1]) or info.file_size) for info, parts in files
               if not (class_zip and _student_zip(parts)))
    if size > limits.bytes:
        raise ZipRefused(f"it would unpack more than {_size(limits.bytes)}")
    if len(folders) > limits.folders:
        raise ZipRefused(f"it would unpack more than {limits.folders} folders")
    return sorted(target.joinpath(*f) for f in folders), [(info, target.joinpath(*parts)) for info, parts in files]


def unpack_zip(archive, target, modules, class_zip=False, limits=ZIP_LIMITS):
    """Unpack what grading reads of the open zip ``archive`` into the empty private
    folder ``target`` (see the module's docstring), within ``limits``; student zips
    (``class_zip``: one named on the command line) are left as empty files until
    their turn. The budget is checked before anything is written, on the sizes the
    zip's directory states, which zipfile never lets an entry exceed. Returns an
    Unpacked; raises ZipRefused when the zip as a whole is over its budget."""
    unpacked = Unpacked(target)
    folders, files = _plan(archive, target, modules, class_zip, limits, unpacked)
    for folder in folders:
        folder.mkdir(exist_ok=True)
    for info, path in files:
        try:
            with _create(path) as out:
                if class_zip and _student_zip(path.parts):
                    unpacked.nested[path] = info
                else:
                    copy_entry(archive, info, out, limits, _kept(path))
        except EntryRefused as err:
            if path not in unpacked.nested:
                path.unlink(missing_ok=True)
            unpacked.problems.setdefault(path.parent, f"its entry {_quoted(info.filename)} {err}")
    return unpacked


def _create(path):
    """A new file at ``path``, for this process only; EntryRefused when something is
    already there (a zip that holds the same name twice)."""
    try:
        return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600), "wb")
    except (FileExistsError, IsADirectoryError) as err:
        raise EntryRefused("appears twice in the zip") from err


def copy_entry(archive, info, out, limits, keep=None):
    """Copy the entry ``info`` of the open zip ``archive`` into the file ``out``: all
    of it, or its first ``keep`` bytes. EntryRefused when it cannot be read, or would
    grow more than ``limits.ratio`` times its compressed size (zipfile never unpacks
    more than the size the zip's directory states, so a bomb is refused unread)."""
    if info.file_size > RATIO_GRACE and info.file_size > limits.ratio * max(info.compress_size, 1):
        raise EntryRefused(f"would unpack to more than {limits.ratio} times its compressed size, as a zip bomb does")
    with _reading(info):
        source = archive.open(info)
    with source:
        left = info.file_size if keep is None else min(keep, info.file_size)
        while left > 0:
            with _reading(info):
                chunk = source.read(min(left, 1 << 16))
            if not chunk:
                break
            out.write(chunk)
            left -= len(chunk)


@contextlib.contextmanager
def _reading(info):
    """What reading the entry ``info`` raises, as its refusal."""
    try:
        yield
    except UNREADABLE as err:
        if info.flag_bits & 0x1:
            raise EntryRefused("is encrypted, and the grader has no password") from err
        raise EntryRefused(f"is damaged ({type(err).__name__}: {shown(err, 200)})") from err


def open_zip(path):
    """The zip at ``path``, open; ZipRefused when it cannot be read as one."""
    try:
        return zipfile.ZipFile(path)
    except UnicodeDecodeError as err:
        raise ZipRefused("its file names are not valid UTF-8, although the zip says they are") from err
    except UNREADABLE as err:
        raise ZipRefused(f"it is not a zip file that can be read ({type(err).__name__}: {shown(err, 200)})") from err


@functools.cache
def _tolerant_loader():
    """Safe YAML that reads Ruby-tagged values (Gradescope's exports carry some) as
    plain data instead of failing. PyYAML is imported only here: the hosted front
    ends share this module but grade with numpy alone."""
    import yaml

    class TolerantLoader(yaml.SafeLoader):
        pass

    TolerantLoader.add_multi_constructor("!", _untagged)
    return yaml, TolerantLoader


def _untagged(loader, suffix, node):
    import yaml
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_scalar(node)


def _field(submitter, key):
    """A submitter's field, written ``:sid:`` by Gradescope (``sid:`` accepted too)."""
    value = submitter.get(f":{key}", submitter.get(key))
    return "" if value is None else shown(str(value).strip(), NAME_LIMIT)


def gradescope_submitters(metadata):
    """{``submission_<id>``: ({"name", "sid", "email"}, ...)} from Gradescope's
    ``submission_metadata.yml``; entries or fields it lacks are simply absent."""
    yaml, loader = _tolerant_loader()
    try:
        data = yaml.load(Path(metadata).read_text(encoding="utf-8", errors="replace"), Loader=loader)
    except (OSError, yaml.YAMLError) as err:
        raise UsageError(f"{shown(metadata)} is not readable Gradescope metadata ({type(err).__name__}); "
                         "export the submissions again") from err
    if not isinstance(data, dict):
        raise UsageError(f"{shown(metadata)} is not Gradescope's submission metadata (no submission_<id> entries)")
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
    private folder that lives as long as the Finder's ``with`` block (and no longer
    than the process: see ``reports.files.held_folder``). ``warnings`` collects, for
    the instructor, the bad entries of a class's zip that no student's folder holds."""

    def __init__(self, graded, limits=ZIP_LIMITS):
        self.graded, self.limits = graded, limits
        self.warnings = []
        self._stack = contextlib.ExitStack()
        self._scratch = None
        self._nested = {}  # the place of a student zip inside a class's zip: (open class zip, entry)
        # What a zip's module folders are told by: the course's other assignments' modules
        # too, so that a student who sent those is told so.
        self._modules = set(graded.spec.modules).union(*(
            other.spec.modules for other in _others_of(graded)))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._stack.close()

    def find(self, paths):
        """The submissions under ``paths``, in order. UsageError when a path does not
        exist, cannot be read, or is a zip that cannot be unpacked at all."""
        for path in map(Path, paths):
            if not os.path.lexists(path):
                raise UsageError(f"{shown(path)} does not exist")
            if not (path.is_dir() or (path.is_file() and path.suffix.lower() == ".zip")):
                raise UsageError(f"{shown(path)} is neither a folder nor a .zip file")
            try:
                if path.is_dir():
                    os.scandir(path).close()
                else:
                    open(path, "rb").close()
            except OSError as err:
                raise UsageError(f"{shown(path)} cannot be read ({err.strerror})") from err
        return [s for path in map(Path, paths) for s in self._find(path)]

    def _find(self, path):
        if path.is_file():
            try:
                unpacked = self._unpack(path, class_zip=True)
            except ZipRefused as err:
                raise UsageError(f"{shown(path)} was refused: {err}") from err
            found = self._in_folder(self._unwrapped(unpacked.root, unpacked.links), path.stem,
                                    _inside(unpacked.root, path), unpacked)
            self.warnings += [f"{shown(path)}: {why}; left out" for why in unpacked.uncharged()]
            return found
        name = path.resolve().name
        if name == self.graded.name and path.resolve().parent.name:
            name = path.resolve().parent.name  # submitted/<student>/<assignment>: the student
        return self._in_folder(path, name, str)

    def _unpack(self, zip_path, class_zip=False):
        """Unpack ``zip_path`` into a new private folder and return its Unpacked. A
        student zip inside a class's zip is first copied out of it, within the student
        zip's own budget. A refused zip's partial files go at once."""
        if self._scratch is None:
            self._scratch = Path(self._stack.enter_context(held_folder(tempfile.gettempdir(), "autograder-zips-")))
        target = Path(tempfile.mkdtemp(dir=self._scratch))
        try:
            if zip_path in self._nested:
                zip_path = self._copied_out(zip_path, target.with_name(target.name + ".zip"))
            with contextlib.ExitStack() as closing:
                archive = closing.enter_context(open_zip(zip_path))
                unpacked = unpack_zip(archive, target, self._modules, class_zip, self.limits)
                if unpacked.nested:  # open until each student zip is copied out
                    self._nested.update((place, (archive, info)) for place, info in unpacked.nested.items())
                    self._stack.enter_context(closing.pop_all())
            return unpacked
        except BaseException:
            shutil.rmtree(target, ignore_errors=True)
            raise
        finally:
            target.with_name(target.name + ".zip").unlink(missing_ok=True)

    def _copied_out(self, place, copy):
        """Copy the student zip whose place is ``place`` out of its class's zip."""
        outer, info = self._nested.pop(place)
        if info.file_size > self.limits.bytes:
            raise ZipRefused(f"it is larger than {_size(self.limits.bytes)}")
        with _create(copy) as out:
            try:
                copy_entry(outer, info, out, self.limits)
            except EntryRefused as err:
                raise ZipRefused(f"it {err}") from err
        return copy

    def _unwrapped(self, root, links=()):
        """A zip's folder to search: its only top folder when everything sits in one
        (``links``: where the zip's links would be)."""
        folders, zips = _children(root)
        if not holds_modules(root, self.graded) and not _is_file(root / GRADESCOPE_METADATA) and len(folders) == 1 \
                and not zips and not any(link.parent == root for link in links):
            return folders[0]
        return root

    def _in_folder(self, folder, name, where, unpacked=None):
        """The rows of ``folder``: one submission, a class or a Gradescope export.
        ``unpacked``: the zip it came from, whose bad entries cost the submission
        whose folder holds them (a zip of one submission: all of them)."""
        charge = unpacked.charge if unpacked else (lambda folder=None: "")
        if _is_file(folder / GRADESCOPE_METADATA):
            return self._gradescope(folder, where, charge)
        folders, zips = _children(folder)
        named = self.graded.name
        is_class = not holds_modules(folder, self.graded) and not _is_folder(folder / named) and (
            zips or any(find_modules(f, self.graded).folder or _is_folder(f / named) for f in folders))
        if not is_class:
            return [_one_submission(folder, name, where, self.graded, refused=charge())]
        # Each student's layout is their own (find_modules): nbgrader's or a zipped folder's.
        rows = [_one_submission(f, f.name, where, self.graded, refused=charge(f)) for f in folders] + [
            self._student_zip(z, where) for z in zips]
        return rows + self._left_out(folder, where, unpacked)

    def _left_out(self, folder, where, unpacked=None):
        """What else a class folder (or zip) holds: a link (to a student's folder or
        zip) is a row that is never followed; any other file is named in a warning."""
        rows = []
        links = [p for p in unpacked.links if p.parent == folder] if unpacked else []
        for path in sorted([*_others(folder), *links]):
            if path in links or _kind(path) == stat.S_IFLNK:
                name = path.stem if path.name.lower().endswith(".zip") else path.name
                rows.append(_row(name, path, where(path), "link not followed", LINK_REASON, notice=LINK_NOTICE))
            else:
                self.warnings.append(f"{shown(where(path))} is neither a folder nor a .zip file; left out")
        return rows

    def _student_zip(self, zip_path, where):
        """A student's zip inside a class: a refusal costs that student, not the class."""
        try:
            unpacked = self._unpack(zip_path)
            refused = unpacked.charge()
        except ZipRefused as err:
            refused = str(err)
        if refused:
            return _row(zip_path.stem, zip_path, where(zip_path), "zip refused", refused)
        inside = _inside(unpacked.root, Path(where(zip_path)))
        return _one_submission(self._unwrapped(unpacked.root), zip_path.stem, inside, self.graded)

    def _gradescope(self, folder, where, charge):
        submitters = gradescope_submitters(folder / GRADESCOPE_METADATA)
        found = []
        for child in _children(folder)[0]:
            students = submitters.get(child.name, ())
            name = "+".join(filter(None, map(_student_id, students))) or child.name
            found.append(_one_submission(child, name, where, self.graded, refused=charge(child), students=students))
        for link in (path for path in _others(folder) if _kind(path) == stat.S_IFLNK):
            students = submitters.get(link.name, ())
            name = "+".join(filter(None, map(_student_id, students))) or link.name
            found.append(_row(name, link, where(link), "link not followed", LINK_REASON, students, LINK_NOTICE))
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
