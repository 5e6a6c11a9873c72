"""Scratch copies of submissions: the files a child imports, readable by that
child's uid alone, and none of them outliving the grader.

Every grader process keeps its copies in one folder of its own,
``$TMPDIR/autograder-scratch-<pid>-XXXXXXXX``, mode 0711: a sandbox uid may pass
through it to the copy handed over to it, but can list nothing. The folder goes
at exit, on SIGTERM or SIGINT where the front end installed ``removed_on_signals``
(see the package), and, if the grader was killed outright, when the next grader
starts and finds that its pid is gone.
"""
import atexit
import os
import re
import shutil
import stat
import tempfile
import threading
from pathlib import Path

PREFIX = "autograder-scratch-"
_STALE = re.compile(re.escape(PREFIX) + r"(\d+)-")
_folder = None
_lock = threading.Lock()


def run_folder():
    """This grader's scratch folder, made (and stale ones removed) on first use."""
    global _folder
    with _lock:
        if _folder is None:
            remove_stale()
            _folder = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-"))
            os.chmod(_folder, 0o711)
            atexit.register(remove_run_folder)
        return _folder


def new_copy():
    """An empty folder for one submission's copy, the grader's alone (0700) until
    ``hand_over`` gives it to a sandbox uid."""
    return Path(tempfile.mkdtemp(prefix="submission-", dir=run_folder()))


def remove_run_folder():
    """Remove this grader's scratch folder and every copy in it (root removes a
    copy whatever its owner made of its modes)."""
    if _folder is not None:
        shutil.rmtree(_folder, ignore_errors=True)


def remove_stale(parent=None):
    """Remove the scratch folders of graders of this user whose process is gone."""
    parent = Path(parent or tempfile.gettempdir())
    for entry in os.scandir(parent):
        match = _STALE.match(entry.name)
        if not match or int(match.group(1)) == os.getpid() or _alive(int(match.group(1))):
            continue
        info = entry.stat(follow_symlinks=False)
        if stat.S_ISDIR(info.st_mode) and info.st_uid == os.geteuid():
            shutil.rmtree(entry.path, ignore_errors=True)


def hand_over(copy, uid):
    """Make the scratch copy ``copy`` readable by ``uid`` and nobody else: the
    folder and its files stay the grader's, in ``uid``'s own group (the sandbox
    gives each uid the group of the same number and no other), readable by that
    group only (0550 and 0440), so the child cannot change their modes either.
    Entries are changed through descriptors opened without following links."""
    if Path(copy).parent != run_folder():
        raise ValueError(f"{copy} is not a scratch copy; only those are handed to a sandbox uid")
    folder = os.open(copy, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        for name in os.listdir(folder):
            entry = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=folder)
            try:
                os.fchown(entry, -1, uid)
                os.fchmod(entry, 0o440)
            finally:
                os.close(entry)
        os.fchown(folder, -1, uid)
        os.fchmod(folder, 0o550)
    finally:
        os.close(folder)


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True
