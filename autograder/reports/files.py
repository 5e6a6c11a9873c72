"""Atomic writes: a reader sees the old file or the new one, never half of one; and
whole output folders replaced by a fresh one in two renames. Files and folders get
the modes the umask asks for, as if created with open() and mkdir()."""
import contextlib
import os
import shutil
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


@contextlib.contextmanager
def fresh_folder(target):
    """Yield an empty staging folder beside ``target`` to write a complete new version
    in. When the block succeeds the staging folder takes ``target``'s place and the old
    ``target`` is deleted, so nothing of an earlier run survives; when it fails the
    staging folder is deleted and ``target`` stays as it was."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.staging-"))
    try:
        staging.chmod(0o777 & ~umask())  # mkdtemp creates 0700 whatever the umask
        yield staging
        old = None
        if os.path.lexists(target):
            old = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.old-"))
            os.replace(target, old / "previous")
        try:
            os.replace(staging, target)
        except BaseException:
            if old is not None:
                os.replace(old / "previous", target)
            raise
        if old is not None:
            shutil.rmtree(old)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
