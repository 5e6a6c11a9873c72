"""``KernelSandbox``: a long-lived process, such as a notebook kernel, confined like
the grader's child.

The grader's child answers one call at a time over pipes; a notebook kernel lives for a
whole notebook and serves its parent over Unix sockets. Each such process gets a
bubblewrap sandbox of its own, built as ``BubblewrapLauncher`` builds the child's: PID,
network, IPC and UTS namespaces; as root an unprivileged pool uid of its own; the limits
and no_new_privs of confine.py; a cleared environment; the Python installation read-only.
The only place it can write is the sandbox's private /tmp (``SCRATCH_BYTES``, memory that
goes with the sandbox), which holds its home, its sockets and a copy of one folder of the
host, its working folder. Nothing else of the host exists inside.

The parent never opens the process's sockets by name: once they exist, each is opened
through the sandbox's root without following links and checked to be a socket, and the
parent reaches it through that descriptor only. A process that replaces a socket by a
link to one of the host's sockets therefore never sends its parent there.

When it is closed (at the latest when its lifetime is over), every process of its uid is
killed and its sandbox, with everything it wrote, is gone.
"""
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from . import scratch
from .launchers import CONFINE_IN_SANDBOX, SCRATCH_BYTES, UIDS, BubblewrapLauncher, _kill_all_of, _setenv
from .limits import GiB, Limits

# A notebook kernel with numpy, matplotlib and scikit-learn uses about 1.1 GiB of address
# space and 15 threads (measured with the batchnorm notebooks' full experiments).
KERNEL_LIMITS = Limits(memory_bytes=3 * GiB, processes=32)
LIFETIME = 600.0  # seconds from start to end, whatever the process does
START_TIMEOUT = 60.0  # seconds to make its sockets, on a loaded machine
# The copy of the working folder must leave room in /tmp for what the process writes.
COPY_FILES, COPY_BYTES, COPY_DEPTH = 2000, SCRATCH_BYTES // 2, 16
SHARED_IN_SANDBOX = "/kernel"  # read-only: the folder to copy, files the parent shares
SOCKETS_IN_SANDBOX = "/tmp/.sockets"
OUTPUT_KEPT = 2000  # bytes of the process's own output quoted when it fails to start
# In the sandbox, as the process's uid: fill its home, make the working folder and the
# sockets' folder, then become the command.
START = """
import os, shutil, sys
home, files, work, sockets, *command = sys.argv[1:]
for name in os.listdir(home):
    (shutil.copytree if os.path.isdir(os.path.join(home, name)) else shutil.copy)(
        os.path.join(home, name), os.path.join(os.environ["HOME"], name))
shutil.copytree(files, work)
os.mkdir(sockets, 0o700)
os.chdir(work)
os.execv(command[0], command)
"""


class FolderRefused(ValueError):
    """The working folder cannot be copied into the sandbox (too large, too deep)."""


class KernelSandbox:
    """One long-lived process in a sandbox of its own, working in a copy of ``folder``
    (regular files and folders only: links, devices and FIFOs are left out, as is every
    path for which ``skip(relative_path)`` is true). Its home (/tmp) starts with a copy
    of the folder ``home``, if given. ``environment`` is added to the sandbox's own
    (PATH, HOME=/tmp, LANG, one BLAS thread).

    Use: ``share`` files, run ``command(argv)`` with ``popen_options()``, call
    ``started`` with the process, and ``close`` when done (idempotent)."""

    def __init__(self, folder, *, skip=None, home=None, environment=None, limits=None, lifetime=LIFETIME,
                 bwrap=None):
        self.launcher = BubblewrapLauncher(limits or KERNEL_LIMITS, bwrap=bwrap)
        self.lifetime, self.environment = lifetime, dict(environment or {})
        self.uid = UIDS.take() if self.launcher.as_root else None
        self.process = self._timer = self._info = self._info_write = self._stderr = None
        self._pinned = []
        self.base = Path(tempfile.mkdtemp(prefix="kernel-", dir=scratch.run_folder()))
        try:
            self.shared = self._folder(self.base / "shared", readable=True)  # /kernel inside
            self.client = self._folder(self.base / "client", readable=False)  # the parent's ends
            name = Path(folder).name
            self.workdir = f"/tmp/{name if name and not name.startswith('.') else 'work'}"
            _copy_tree(Path(folder), self.shared / "files", skip or (lambda relative: False), self._group)
            if home is None:
                self._folder(self.shared / "home", readable=True)
            else:
                _copy_tree(Path(home), self.shared / "home", lambda relative: False, self._group)
            self._stderr = os.open(self.base / "stderr", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except BaseException:
            self.close()
            raise

    @property
    def _group(self):
        return self.uid if self.uid is not None else -1

    def _folder(self, path, *, readable):
        """A folder of the host; ``readable`` ones the process's uid may read, as the
        sandbox's group (the grader stays the owner, so the process cannot change it)."""
        path.mkdir()
        _give(path, self._group if readable else -1, 0o750)
        return path

    def share(self, name, data):
        """Put ``data`` (bytes) in a file that the process may read; its path inside."""
        path = self.shared / name
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600), "wb") as file:
            _give(file.fileno(), self._group, 0o440)
            file.write(data)
        return f"{SHARED_IN_SANDBOX}/{name}"

    def command(self, argv):
        """The command line that runs ``argv`` (its paths as seen inside) in the sandbox,
        in the copy of the folder."""
        self._info, info_write = os.pipe()
        self._info_write = info_write
        environment = _setenv(self.environment)
        start = [sys.executable, "-I", "-S", "-c", START, f"{SHARED_IN_SANDBOX}/home", f"{SHARED_IN_SANDBOX}/files",
                 self.workdir, SOCKETS_IN_SANDBOX, *argv]
        # A kernel serves nbgrader over Unix sockets, so it keeps the socket calls the
        # grader's child is refused; its /tmp (its home, the folder's copy) has the files cap.
        launcher = self.launcher
        return (launcher.bubblewrap({self.shared: SHARED_IN_SANDBOX}, "--info-fd", str(info_write),
                                    *launcher.scratch_files_capability(), *environment)
                + launcher.confine(start, self.uid, confine=CONFINE_IN_SANDBOX,
                                   settings=["sockets=allow", *launcher.scratch_files_setting()]))

    def popen_options(self):
        """What ``subprocess.Popen`` needs besides the command: bubblewrap's own
        environment (the sandbox's is set on its command line), its info pipe, and the
        process's output, kept in a file of the host (at most the file size limit)."""
        return {"env": {"PATH": "/usr/bin:/bin"}, "cwd": "/", "stdin": subprocess.DEVNULL,
                "stdout": self._stderr, "stderr": self._stderr, "pass_fds": (self._info_write,),
                "start_new_session": True}

    def started(self, process, sockets, *, timeout=START_TIMEOUT, on_expiry=None):
        """Once ``process`` (from ``command``) has made ``sockets`` (names) in its folder,
        make each reachable by the parent as ``client / name`` (see the module) and start
        the clock of its lifetime (``on_expiry()`` is called if it runs out). Raises
        RuntimeError, with what the process printed, if it ends or times out first."""
        self.process = process
        os.close(self._info_write)
        self._info_write = None
        with os.fdopen(self._info, "rb") as info:
            self._info = None
            pid = _child_pid(info.read())
        if not pid:
            raise RuntimeError(f"bubblewrap did not start the sandbox: {self.output()}")
        deadline = time.monotonic() + timeout
        for name in sockets:
            while (descriptor := _open_socket(pid, process, SOCKETS_IN_SANDBOX, name)) is None:
                if process.poll() is not None:
                    raise RuntimeError(f"the sandboxed process ended before it was ready: {self.output()}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the sandboxed process made no socket in {timeout:.0f} s: {self.output()}")
                time.sleep(0.005)
            self._pinned.append(descriptor)
            os.symlink(f"/proc/self/fd/{descriptor}", self.client / name)
        self._timer = threading.Timer(self.lifetime, self._expire, args=(on_expiry,))
        self._timer.daemon = True
        self._timer.start()

    def _expire(self, on_expiry):
        self._kill()
        if on_expiry is not None:
            on_expiry()

    def _kill(self):
        if self.process is not None and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)  # bubblewrap: its sandbox goes with it
            except ProcessLookupError:
                pass

    def output(self):
        """The end of what the process wrote on its standard output and error."""
        try:
            with open(self.base / "stderr", "rb") as file:
                file.seek(max(os.fstat(file.fileno()).st_size - OUTPUT_KEPT, 0))
                text = file.read().decode(errors="replace").strip()
        except OSError:
            return "(no output)"
        return text or "(no output)"

    def close(self):
        """Kill the process and everything of its uid; remove its files and give the
        uid back (kept out of the pool if something of it survived)."""
        if self._timer is not None:
            self._timer.cancel()
        self._kill()
        if self.process is not None:
            self.process.wait()
        if self.uid is not None:
            if _kill_all_of(self.uid):
                UIDS.give_back(self.uid)
            self.uid = None
        for descriptor in (self._info, self._info_write, self._stderr, *self._pinned):
            if descriptor is not None:
                try:
                    os.close(descriptor)
                except OSError:
                    pass
        self._pinned, self._info = [], None
        self._info_write = self._stderr = None
        shutil.rmtree(self.base, ignore_errors=True)


def _child_pid(info):
    """The host pid of the sandbox's first process, from bubblewrap's info (JSON);
    0 if bubblewrap ended without saying."""
    try:
        return int(json.loads(info or b"{}").get("child-pid", 0))
    except (ValueError, AttributeError):
        return 0


def _open_socket(pid, process, folder, name):
    """A descriptor (O_PATH) of the socket ``folder/name`` in the sandbox whose first
    process is ``pid`` (started by ``process``, bubblewrap), reached from the sandbox's
    root one component at a time without following a link; None while it does not
    exist. A link or anything but a socket there is refused (RuntimeError)."""
    try:
        root = os.open(f"/proc/{pid}/root", os.O_PATH | os.O_DIRECTORY)
    except OSError:
        return None
    descriptors = [root]
    try:
        # Until bubblewrap has built the sandbox, its first process still has the
        # host's root; once bubblewrap is seen alive after the open, ``pid`` is still
        # that process (the sandbox's root never changes again).
        if os.path.samestat(os.fstat(root), os.stat("/")) or process.poll() is not None:
            return None
        current = root
        for part in Path(folder).relative_to("/").parts:
            current = os.open(part, os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=current)
            descriptors.append(current)
        found = os.open(name, os.O_PATH | os.O_NOFOLLOW, dir_fd=current)
    except FileNotFoundError:
        return None
    except OSError as err:
        raise RuntimeError(f"the sandboxed process's {folder} is not a plain folder ({err.strerror})") from None
    finally:
        for descriptor in descriptors:
            os.close(descriptor)
    if not stat.S_ISSOCK(os.fstat(found).st_mode):
        os.close(found)
        raise RuntimeError(f"the sandboxed process's {folder}/{name} is not a socket")
    return found


def _copy_tree(source, target, skip, group):
    """Copy the folder ``source`` to ``target``: regular files and folders only, never
    following a link, leaving out what ``skip`` names; readable by ``group`` (-1: the
    owner only). At most COPY_FILES files, COPY_BYTES bytes and COPY_DEPTH levels."""
    left = {"files": COPY_FILES, "bytes": COPY_BYTES}
    try:
        folder = os.open(source, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError as err:
        raise FolderRefused(f"{source} cannot be read as a folder ({err.strerror})") from None
    try:
        _copy_folder(folder, source, target, Path(), skip, group, left)
    finally:
        os.close(folder)


def _copy_folder(folder, source, target, relative, skip, group, left):
    if len(relative.parts) > COPY_DEPTH:
        raise FolderRefused(f"{source} is more than {COPY_DEPTH} folders deep; a notebook's kernel works on a "
                            "copy of at most that")
    target.mkdir()
    _give(target, group, 0o750)
    with os.scandir(folder) as entries:
        found = sorted((entry.name, entry.stat(follow_symlinks=False)) for entry in entries)
    for name, info in found:
        path = relative / name
        if skip(path) or not (stat.S_ISDIR(info.st_mode) or stat.S_ISREG(info.st_mode)):
            continue
        left["files"] -= 1
        left["bytes"] -= info.st_size
        if left["files"] < 0 or left["bytes"] < 0:
            raise FolderRefused(f"{source} holds more than {COPY_FILES} files or {COPY_BYTES >> 20} MiB; a "
                                "notebook's kernel works on a copy of at most that")
        flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | (os.O_DIRECTORY if stat.S_ISDIR(info.st_mode) else 0)
        try:
            entry = os.open(name, flags, dir_fd=folder)
        except OSError:  # gone, or replaced since it was listed
            continue
        try:
            if stat.S_ISDIR(info.st_mode):
                _copy_folder(entry, source, target / name, path, skip, group, left)
            elif stat.S_ISREG(os.fstat(entry).st_mode):
                _copy_file(entry, target / name, group, info.st_size)
        finally:
            os.close(entry)


def _copy_file(entry, target, group, size):
    copy = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        _give(copy, group, 0o640)
        sent = 0
        while sent < size and (chunk := os.sendfile(copy, entry, None, size - sent)):
            sent += chunk
    finally:
        os.close(copy)


def _give(path, group, mode):
    """Make ``path`` (or a descriptor) the grader's, readable by ``group`` with ``mode``;
    without a group (-1), by the grader alone."""
    os.chown(path, -1, group)
    os.chmod(path, mode if group != -1 else mode & 0o700)
