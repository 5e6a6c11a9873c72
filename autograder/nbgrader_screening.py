"""nbgrader reads a submission's own files only: never a link, a device or a FIFO.

``nbgrader autograde`` copies every file of ``submitted/<student>/<assignment>/`` into
``autograded/`` and reads each notebook by name, as the user running nbgrader (root on a
grading machine), following links: a notebook linked to a classmate's or to the master
was graded as its target, and a file linked to ``/dev/zero`` was copied for ever. Here,
with nbgrader's own extension points:

- ``ScreenedExporter`` (``c.Autograde.exporter_class``) reads a notebook only when it
  and every folder above it in the submission are what they seem; a link, a FIFO or a
  device is graded as an empty notebook (nbgrader puts back its grade cells, so the
  questions earn nothing and the module grade cells what the modules earn), where a
  cell says why, in the autograded notebook and the feedback;
- ``screen``, which that exporter makes its converter's ``pre_convert_hook``, runs
  before nbgrader copies a submission: every link and every file that is not a regular
  file or a folder, at any depth, joins ``CourseDirectory.ignore`` for that submission
  (as its exact path), so nbgrader never opens it. Each gets one sentence in nbgrader's
  log;
- ``screened_timestamp``, which that exporter makes its course folder's
  ``get_existing_timestamp``: nbgrader reads a submission's ``timestamp.txt`` before any
  hook runs, and reads it whole; only a regular file of a timestamp's size is read.
"""
import functools
import glob
import os
import stat

from nbconvert.exporters import NotebookExporter
from nbformat.v4 import new_markdown_cell, new_notebook
from nbgrader.converters import Autograde

KINDS = {stat.S_IFLNK: "a link", stat.S_IFIFO: "a FIFO", stat.S_IFCHR: "a device", stat.S_IFBLK: "a device",
         stat.S_IFSOCK: "a socket"}


def _kind(path):
    """What ``path`` is when nbgrader must not open it ("a link", ...), else None (also
    when it is gone: nbgrader will not find it either)."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return None
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    return KINDS.get(stat.S_IFMT(mode), "not a regular file")


def _linked_step(path, root):
    """The first step of ``path`` below the course's step folder (``submitted/``,
    ``autograded/``: the instructor's, which may be a link), ``path`` included, that is
    a link, or None."""
    steps = os.path.relpath(os.path.abspath(path), os.path.abspath(root)).split(os.sep)
    for depth in range(2, len(steps) + 1):
        step = os.path.join(root, *steps[:depth])
        if os.path.islink(step):
            return step
    return None


def refused(folder, root):
    """{path: what it is} of what nbgrader must not open in the submission ``folder``:
    the folder itself when it lies under a link, else every link, FIFO, device or socket
    in it, at any depth (a linked folder is not entered)."""
    linked = _linked_step(folder, root)
    if linked is not None:
        return {folder: f"under {os.path.relpath(linked, root)!r}, which is a link"}
    found = {}
    for parent, folders, files in os.walk(folder):
        for name in folders + files:
            path = os.path.join(parent, name)
            kind = _kind(path)
            if kind is not None:
                found[path] = kind
    return found


TIMESTAMP_BYTES = 1024  # far more than any timestamp nbgrader writes or parses


def screened_timestamp(coursedir, read, dest_path):
    """nbgrader's ``CourseDirectory.get_existing_timestamp`` (``read``), called only on
    a ``timestamp.txt`` that is a regular file, reached through no link, of at most
    ``TIMESTAMP_BYTES``; otherwise the submission has no timestamp, and the log says why."""
    path = os.path.join(dest_path, "timestamp.txt")
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    linked = _linked_step(path, coursedir.root)
    why = (f"under {os.path.relpath(linked, coursedir.root)!r}, which is a link" if linked not in (None, path)
           else _kind(path) or ("a folder" if stat.S_ISDIR(info.st_mode) else None)
           or (f"larger than {TIMESTAMP_BYTES} bytes" if info.st_size > TIMESTAMP_BYTES else None))
    if why is None:
        return read(dest_path)
    coursedir.log.warning("%r is %s; nbgrader does not read it, so the submission has no timestamp",
                          os.path.relpath(path, coursedir.root), why)
    return None


def screen(converter, then, **kwargs):
    """nbgrader's pre_convert_hook: leave out of the submission about to be copied
    everything ``refused`` names, then call the hook configured before (``then``)."""
    base = converter._screened_ignore  # the configured patterns, without any submission's
    notebooks = kwargs.get("notebooks") or []
    left_out = refused(os.path.dirname(notebooks[0]), converter.coursedir.root) if notebooks else {}
    for path, kind in sorted(left_out.items()):
        if path in notebooks:  # the exporter reports these
            continue
        converter.log.warning("%r is %s; nbgrader does not open it, so it was left out of the submission",
                              os.path.relpath(path, converter.coursedir.root), kind)
    converter.coursedir.ignore = [*base, *map(glob.escape, left_out)]
    if then is not None:
        then(**kwargs)


class ScreenedExporter(NotebookExporter):
    """nbgrader's notebook exporter, which never reads a notebook through a link or from
    a FIFO or a device (see the module's docstring)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        converter = self.parent
        if isinstance(converter, Autograde) and not hasattr(converter, "_screened_ignore"):
            converter._screened_ignore = list(converter.coursedir.ignore)
            converter.pre_convert_hook = functools.partial(screen, converter, converter.pre_convert_hook)
            coursedir = converter.coursedir
            coursedir.get_existing_timestamp = functools.partial(screened_timestamp, coursedir,
                                                                 coursedir.get_existing_timestamp)

    def from_filename(self, filename, resources=None, **kw):
        why = self._unreadable(filename)
        if why is None:
            return super().from_filename(filename, resources, **kw)
        name = os.path.basename(filename)
        root = self.parent.coursedir.root
        self.log.warning("%r %s; nbgrader does not read it, so it was graded as an empty notebook",
                         os.path.relpath(filename, root), why)
        sentence = (f"**{name} was not graded**: in your submission it {why}, and the grader reads only files "
                    "you submitted yourself, so it was graded as an empty notebook.")
        if resources is not None:
            resources.setdefault("metadata", {}).update(name=os.path.splitext(name)[0],
                                                          path=os.path.dirname(filename))
        return self.from_notebook_node(new_notebook(cells=[new_markdown_cell(sentence)]), resources, **kw)

    def _unreadable(self, filename):
        """Why nbgrader must not read the notebook ``filename``, or None."""
        path = os.path.abspath(filename)
        linked = _linked_step(path, self.parent.coursedir.root)
        if linked is not None and linked != path:
            return f"lies under {os.path.basename(linked)!r}, which is a link"
        kind = _kind(path)
        return None if kind is None else f"is {kind}"
