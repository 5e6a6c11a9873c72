"""Atomic writes: a reader sees the old file or the new one, never half of one; and
whole output folders replaced by a fresh one in two renames. Files and folders get
the modes the umask asks for, as if created with open() and mkdir().

A run's working folders (the staging folder of an output folder, the old output while
it is swapped out, the folder of unpacked zips) are *held*: locked (flock) by the
process that made them, removed when it is done with them, when SIGINT or SIGTERM
ends it, and, if it died outright (kill -9, a crash), by the next run that makes a
folder of the same kind beside them: that run takes their lock, which only a process
still running (a grader in parallel) holds.
"""
import contextlib
import fcntl
import os
import shutil
import signal
import tempfile
import threading
from pathlib import Path

_umask_lock = threading.Lock()


def umask():
    """The process's umask, read without changing it where Linux allows (os.umask
    can only read by setting, which would race with threads creating files)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    with _umask_lock:
        mask = os.umask(0o077)  # the strict side, should another thread create a file meanwhile
        os.umask(mask)
    return mask


def write_atomic_bytes(path, data):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), 0o666 & ~umask())  # mkstemp creates 0600 whatever the umask
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_atomic(path, text):
    write_atomic_bytes(path, text.encode("utf-8"))


_held = {}  # folder -> descriptor holding its lock (plain dict operations: a signal handler uses it)
ENDING = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def held_folder(parent, prefix, salvage=None):
    """A new empty folder ``parent/prefix*``, held by this process for the block
    (see the module's docstring), then removed. Folders of the same prefix whose run
    is gone are removed first; ``salvage(folder)`` may take what it needs out of
    each before."""
    remove_abandoned(parent, prefix, salvage)
    folder, lock = _new_locked(Path(parent), prefix)
    _held[folder] = lock
    try:
        with _removed_on_signals():
            yield folder
    finally:
        _release(folder)


def _new_locked(parent, prefix):
    """(folder, locked descriptor): a folder made and locked, which no other run can
    have removed in between (one that did held the lock while it did)."""
    while True:
        folder = Path(tempfile.mkdtemp(dir=parent, prefix=prefix))
        try:
            lock = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except FileNotFoundError:
            continue
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if os.path.samestat(os.fstat(lock), os.lstat(folder)):
                return folder, lock
        except (BlockingIOError, FileNotFoundError):
            pass
        os.close(lock)


def _release(folder):
    shutil.rmtree(folder, ignore_errors=True)
    lock = _held.pop(folder, None)
    if lock is not None:
        os.close(lock)


def remove_abandoned(parent, prefix, salvage=None):
    """Remove the folders ``parent/prefix*`` of this user whose lock is free: the
    run that held them is gone."""
    try:
        with os.scandir(parent) as entries:
            found = [e.path for e in entries if e.name.startswith(prefix) and e.is_dir(follow_symlinks=False)]
    except OSError:
        return
    for path in found:
        try:
            lock = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except OSError:
            continue
        try:
            if os.fstat(lock).st_uid == os.geteuid():
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                if salvage is not None:
                    salvage(Path(path))
                shutil.rmtree(path, ignore_errors=True)
        except BlockingIOError:
            pass
        finally:
            os.close(lock)


@contextlib.contextmanager
def _removed_on_signals():
    """While in force (in the main thread, where Python runs signal handlers), SIGINT
    and SIGTERM first remove every held folder, then do what they did before."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    def remove_then_go_on(number, frame):
        for folder in list(_held):
            _release(folder)
        handler = previous[number]
        if callable(handler):
            handler(number, frame)
        elif handler != signal.SIG_IGN:
            signal.signal(number, signal.SIG_DFL)
            os.kill(os.getpid(), number)
    previous = {number: signal.signal(number, remove_then_go_on) for number in ENDING}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


@contextlib.contextmanager
def _signals_deferred():
    """SIGINT and SIGTERM wait until the end of the block (a swap of two renames
    that must not stop half-way)."""
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, ENDING)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)


@contextlib.contextmanager
def fresh_folder(target):
    """Yield an empty staging folder beside ``target`` (``.NAME.staging-*``) to write a
    complete new version in. When the block succeeds the staging folder takes
    ``target``'s place and the old ``target`` is deleted, so nothing of an earlier run
    survives; when it fails, or SIGINT or SIGTERM ends it, the staging folder is
    deleted and ``target`` stays as it was. A run that died half-way through the swap
    leaves the old ``target`` in ``.NAME.old-*``: the next run puts it back first."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    def put_back(old):
        if os.path.lexists(old / "previous") and not os.path.lexists(target):
            os.replace(old / "previous", target)
    with held_folder(target.parent, f".{target.name}.old-", put_back) as old, \
            held_folder(target.parent, f".{target.name}.staging-") as staging:
        staging.chmod(0o777 & ~umask())  # mkdtemp creates 0700 whatever the umask
        yield staging
        with _signals_deferred():
            if os.path.lexists(target):
                os.replace(target, old / "previous")
            try:
                os.replace(staging, target)
            except BaseException:
                put_back(old)
                raise
