"""Launchers that confine the child process running student code.

``BubblewrapLauncher`` puts the child in new PID, network, IPC and UTS namespaces
(and a user namespace when the grader is not root) with a filesystem made of
read-only binds of exactly what it needs; ``LimitsLauncher`` is the fallback where
bubblewrap cannot run: resource limits, a process group and, as root, a uid of
its own. Both start the child through ``confine.py``, which sets the limits and
no_new_privs and, when the grader is root, gives the child an unprivileged uid of
its own, to which the submission's scratch copy is handed over.
"""
import fcntl
import importlib.util
import os
import shutil
import signal
import site
import stat
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from ..kit.runner import Launcher
from ..kit.runner.client import CHILD
from . import scratch
from .limits import Limits, gib

CONFINE = Path(__file__).with_name("confine.py")
CONFINE_IN_SANDBOX = "/sandbox/confine.py"
RUNNER_IN_SANDBOX = "/runner"
SUBMISSION_IN_SANDBOX = "/submission"
SCRATCH_BYTES = 64 << 20
# Files and folders in that /tmp (as root): tmpfs counts only bytes, and each empty file
# costs the kernel about a KiB (3.1 million of them took 3.3 GiB). Honest code makes none.
SCRATCH_FILES = 16384
# What the system-call filter of confine.py refuses, as a result's protections say it.
REFUSED_CALLS = "no sockets, System V IPC, message queues, keyrings, memfd or new namespaces (system-call filter)"
# The folders every user may write to: what a fallback child's uid leaves there is
# removed when the child ends (folders of its own, or others may write to, up to
# SWEEP_DEPTH levels down).
SHARED_WRITABLE = ("/tmp", "/var/tmp", "/dev/shm", "/dev/mqueue", "/run/lock", "/var/lock")
SWEEP_DEPTH = 32
# The child's whole environment: nothing of the grader's reaches student code, and
# one BLAS thread keeps the process and memory limits meaningful.
CHILD_ENVIRONMENT = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/tmp", "TMPDIR": "/tmp",
                     "LANG": "C.UTF-8", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
                     "MKL_NUM_THREADS": "1"}


class SandboxUnavailable(RuntimeError):
    """The sandbox was asked for but cannot run here."""


# One folder of locks for every grader of the machine, whatever its TMPDIR: two graders
# that looked in different folders would hand out the same uid, and each would kill the
# other's children with its own. Only root takes uids; /run is root's and never aged.
UID_LOCKS = Path("/run" if os.path.isdir("/run") else "/tmp") / "autograder-sandbox-uids"


class UidPool:
    """Unprivileged uids, one per running child, so that one submission's
    processes never count against another's process limit (RLIMIT_NPROC is per
    user) and can all be found and killed by their uid. A uid is held through a
    lock file, so that graders running side by side never share one."""

    def __init__(self, first, locks=None):
        self.first = first
        self.locks = locks or UID_LOCKS
        # Reentrant: a grader's SIGTERM handler (end_every_child) asks which uids it holds,
        # and may run in the very thread that was taking one (a plain lock deadlocked there).
        self.held, self.lock = {}, threading.RLock()

    def take(self):
        self.locks.mkdir(mode=0o700, exist_ok=True)
        if self.locks.stat().st_uid != os.geteuid():
            raise RuntimeError(f"{self.locks} belongs to another user; remove it")
        with self.lock:
            for uid in range(self.first, self.first + 100_000):
                if uid in self.held:
                    continue
                descriptor = os.open(self.locks / str(uid), os.O_CREAT | os.O_RDWR | os.O_NOFOLLOW, 0o600)
                try:
                    fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    os.close(descriptor)
                    continue
                self.held[uid] = descriptor
                return uid
        raise RuntimeError(f"no free uid for the sandbox in {self.locks}")

    def give_back(self, uid):
        with self.lock:
            descriptor = self.held.pop(uid, None)
        if descriptor is not None:
            os.close(descriptor)

    def in_use(self):
        with self.lock:
            return list(self.held)


# Far from real users (Debian hands out 1000-59999) and from the subordinate uid
# ranges that containers use (100000 and up, in blocks of 65536).
UIDS = UidPool(first=1_900_000_000)


class _Confined(Launcher):
    """What both launchers share: limits, the uid, stopping and explaining deaths."""

    def __init__(self, limits=None):
        self.limits = limits or Limits()
        self.as_root = os.geteuid() == 0

    def confine(self, command, uid, *, confine=CONFINE, processes=True, settings=()):
        """``command`` under the limits (and as ``uid``, with more ``settings``), through confine.py."""
        who = [f"uid={uid}"] if uid is not None else []
        limits = self.limits.confine_args(processes=processes)
        return [sys.executable, "-I", "-S", str(confine), *limits, *who, *settings, "--", *command]

    def popen_options(self):
        return {"start_new_session": True, "env": CHILD_ENVIRONMENT}

    def stop(self, process, within=None):
        super().stop(process, within)
        uid = _uid_of(process.args)
        if uid is not None:
            process.wait()
            # A uid goes back to the pool only when its last process is gone, so that
            # the next child never counts a dying one against its process limit.
            if _kill_all_of(uid):
                self.release(uid, within)

    def release(self, uid, within=None):
        """Return ``uid``, whose processes are all gone, to the pool."""
        UIDS.give_back(uid)

    def explain_death(self, returncode):
        number = self.signal_of(returncode)
        if number is None:
            return None
        if number == signal.SIGXCPU:
            return (f"the process running {{function}} used more than {self.limits.cpu_seconds} s of CPU "
                    "time in total and was stopped")
        if number == signal.SIGXFSZ:
            return (f"{{function}} wrote a file larger than the limit ({self.limits.file_bytes >> 20} MiB) "
                    "and was stopped")
        return (f"the process running {{function}} was killed by {_signal_name(number)} without answering; "
                f"if it allocates a lot, it probably exceeded the memory limit "
                f"({gib(self.limits.memory_bytes)} GiB), otherwise it crashed the interpreter")

    def signal_of(self, returncode):
        return -returncode if returncode is not None and returncode < 0 else None


class BubblewrapLauncher(_Confined):
    """The child in new PID, network, IPC and UTS namespaces, seeing only the
    Python installation, numpy and the runner (read-only), its copy of the
    submission (read-only) and a private /tmp; under ``limits``; as an
    unprivileged uid of its own when the grader is root.

    As root, bubblewrap sets up the mounts itself (so the Python installation may
    sit in a folder only root can reach) and hands the child to confine.py with
    just the capabilities to change uid, which it gives up for good. Otherwise
    bubblewrap runs in a user namespace of the grader's user."""

    def __init__(self, limits=None, *, bwrap=None):
        super().__init__(limits)
        self.bwrap = bwrap or shutil.which("bwrap") or "/usr/bin/bwrap"

    @property
    def protections(self):
        who = (f"an unprivileged user of its own (uid {UIDS.first} and up), not root" if self.as_root
               else "the grader's own non-root user, with no capabilities")
        files = f" and {SCRATCH_FILES} files" if self.as_root else ""
        return ("time limit per call", "separate process",
                "PID namespace: every process it starts ends when grading ends",
                "no network (empty network namespace)", "own IPC and hostname namespaces",
                "filesystem: read-only Python and numpy, a read-only copy of the submission and a private "
                f"/tmp of {SCRATCH_BYTES >> 20} MiB{files}; nothing else of the grader's disk",
                f"runs as {who}", "environment cleared", REFUSED_CALLS,
                *self.limits.describe())

    def command(self, argv, submission):
        interpreter, options, script, rest = _split(argv)
        child = [interpreter, *options, f"{RUNNER_IN_SANDBOX}/{Path(script).name}",
                 *[SUBMISSION_IN_SANDBOX if Path(a) == Path(submission) else a for a in rest]]
        uid = UIDS.take() if self.as_root else None
        if uid is not None:
            scratch.hand_over(submission, uid)
        return self.sandbox(child, uid, {Path(script).resolve().parent: RUNNER_IN_SANDBOX,
                                         Path(submission).resolve(): SUBMISSION_IN_SANDBOX})

    def sandbox(self, command, uid, binds):
        """bubblewrap's command line: ``command`` confined, as ``uid``, seeing the
        system's and the interpreter's trees and ``binds`` (host folder: inside)."""
        return (self.bubblewrap(binds, *self.scratch_files_capability())
                + self.confine(command, uid, confine=CONFINE_IN_SANDBOX, settings=self.scratch_files_setting()))

    def scratch_files_capability(self):
        """bubblewrap's options that let confine.py cap the files of /tmp: as root it lends
        CAP_SYS_ADMIN, which confine.py gives up once it has (a sandbox in a user namespace
        cannot reconfigure its /tmp, so without root the files are not capped)."""
        return ["--cap-add", "CAP_SYS_ADMIN"] if self.as_root else []

    def scratch_files_setting(self):
        """confine.py's setting that caps the files of /tmp, where it can."""
        return [f"inodes={SCRATCH_FILES}"] if self.as_root else []

    def bubblewrap(self, binds, *options):
        """bubblewrap and its options up to the command: the namespaces, the
        system's and the interpreter's trees, confine.py and ``binds`` (host
        folder: inside), read-only, and a private /tmp."""
        if self.as_root:
            namespaces = ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
                          "--unshare-cgroup-try", "--cap-drop", "ALL", "--cap-add", "CAP_SETUID",
                          "--cap-add", "CAP_SETGID"]
        else:
            namespaces = ["--unshare-all", "--unshare-user", "--disable-userns", "--cap-drop", "ALL"]
        binds = {**_python_tree(), CONFINE: CONFINE_IN_SANDBOX, **binds}
        mounts = [item for host, inside in binds.items() for item in ("--ro-bind", str(host), str(inside))]
        # The private /tmp comes first, so that a venv that lives in the host's /tmp
        # is bound inside it rather than hidden by it.
        return [self.bwrap, *namespaces, "--die-with-parent", "--new-session", "--hostname", "sandbox",
                "--clearenv", *_setenv(CHILD_ENVIRONMENT),
                "--perms", "1777", "--size", str(SCRATCH_BYTES), "--tmpfs", "/tmp", *_system_tree(),
                *_folders_leading_to([*binds.values(), *_venv_link()[2:]]), *mounts, *_venv_link(),
                "--proc", "/proc", "--dev", "/dev", "--chdir", "/tmp", *options, "--"]

    def works(self):
        """Whether bubblewrap exists and can build this sandbox here (user
        namespaces may be disabled, e.g. in an unprivileged container)."""
        if not Path(self.bwrap).is_file():
            return False
        uid = UIDS.take() if self.as_root else None
        try:
            probe = self.sandbox(["/bin/true"], uid, {})
            return subprocess.run(probe, capture_output=True, timeout=20, env=CHILD_ENVIRONMENT).returncode == 0
        except (OSError, subprocess.SubprocessError):
            return False
        finally:
            if uid is not None:
                UIDS.give_back(uid)

    def signal_of(self, returncode):
        # bubblewrap reports a child killed by signal N as 128 + N; a negative code
        # means bubblewrap itself was killed.
        if returncode is not None and returncode > 128:
            return returncode - 128
        return super().signal_of(returncode)


class LimitsLauncher(_Confined):
    """The fallback: resource limits, no_new_privs and a process group of its own.
    The child sees the grader's files and network. When the grader is root, the
    child gets an unprivileged uid of its own, which makes the process limit bind,
    lets every process it started be found and killed at the end, and marks the
    files it left in the shared writable folders, removed then too. As root it
    refuses to start (SandboxUnavailable) where that uid could not run Python and
    numpy: student code never runs as root. A grader that is not root runs the
    child as its own user."""

    def __init__(self, limits=None):
        super().__init__(limits)
        if self.as_root:
            blocked = next((p.resolve() for p in _runtime() if not _reachable_by_others(p)), None)
            if blocked is not None:
                raise SandboxUnavailable(
                    f"the limits sandbox would run student code as root, because its unprivileged uid cannot "
                    f"reach {blocked}; install Python and numpy where every user can read them, or pass "
                    "--sandbox none to accept running student code unconfined, as root")
        self.drops_root = self.as_root

    @property
    def protections(self):
        if self.drops_root:
            who = (f"an unprivileged user of its own (uid {UIDS.first} and up); its processes are killed when "
                   "grading ends")
        else:
            who = "the grader's own user" + (" (root)" if self.as_root else "")
        return ("time limit per call", "separate process",
                "own process group, killed when grading ends", f"runs as {who}", "environment cleared",
                REFUSED_CALLS, *self.limits.describe(processes=self.drops_root))

    def command(self, argv, submission):
        uid = UIDS.take() if self.drops_root else None
        if uid is not None:
            scratch.hand_over(submission, uid)
        # Without a uid of its own, RLIMIT_NPROC would not bind root, and for any
        # other user it would count the grader's processes too.
        return self.confine(argv, uid, processes=uid is not None)

    def release(self, uid, within=None):
        # A uid whose files could not all be removed in time stays out of the pool.
        if _remove_files_of(uid, within=within):
            super().release(uid)


def end_every_child():
    """Kill the processes of every sandbox uid this grader holds and remove their
    files, for a grader about to die (children of a non-root grader's fallback
    end when they read the end of their request pipe)."""
    for uid in UIDS.in_use():
        if _kill_all_of(uid, wait=1.0):
            _remove_files_of(uid)


def _split(argv):
    """(interpreter, its options, the script, the script's arguments)."""
    script_at = next(i for i, a in enumerate(argv[1:], 1) if not a.startswith("-"))
    return argv[0], argv[1:script_at], argv[script_at], argv[script_at + 1:]


def _setenv(environment):
    return [item for key, value in environment.items() for item in ("--setenv", key, value)]


def _system_tree():
    """/usr read-only, and /bin, /lib, ... as the host has them (links into /usr, or folders)."""
    args = ["--ro-bind", "/usr", "/usr"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64"):
        path = Path("/") / name
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    return args


def _python_tree():
    """The interpreter's installation and, for a venv, its pyvenv.cfg and
    site-packages (numpy), each at its own path."""
    base = Path(sys.base_prefix).resolve()
    tree = {} if _under(base, Path("/usr")) else {base: base}
    if sys.prefix != sys.base_prefix:
        venv = Path(sys.prefix)
        tree[venv / "pyvenv.cfg"] = venv / "pyvenv.cfg"
        tree.update({folder: folder for folder in map(Path, site.getsitepackages())
                     if folder.is_dir() and _under(folder, venv)})
    return tree


def _venv_link():
    """A venv's python becomes a link to the real interpreter, so that Python
    still finds pyvenv.cfg next to it and with it the venv's site-packages."""
    if sys.prefix == sys.base_prefix:
        return []
    return ["--symlink", str(Path(sys.executable).resolve()), sys.executable]


def _folders_leading_to(paths):
    """Create the folders above ``paths`` readable by all: bubblewrap, as root,
    would create them for root only, and the child's uid could not reach inside."""
    folders = sorted({str(p) for path in paths for p in Path(path).parents if p not in (Path("/"), Path("/tmp"))},
                     key=lambda p: p.count("/"))
    return [item for folder in folders for item in ("--perms", "0755", "--dir", folder)]


def _under(path, folder):
    return path == folder or folder in path.parents


def _runtime():
    """What the fallback child's uid must be able to read: the interpreter, the
    standard library, numpy, the runner and confine.py, and the temporary folder
    that holds the scratch copies."""
    numpy = importlib.util.find_spec("numpy")
    return (Path(sys.executable), Path(os.__file__), *([Path(numpy.origin).parent] if numpy else []),
            CHILD, CONFINE, Path(tempfile.gettempdir()))


def _reachable_by_others(path):
    """Whether a user with no relation to the owner can reach and read ``path``
    (and, for a folder, look inside)."""
    path = path.resolve()
    mode = os.stat(path).st_mode
    needed = 0o005 if stat.S_ISDIR(mode) else 0o004
    return all(os.stat(p).st_mode & 0o001 for p in path.parents) and mode & needed == needed


def _uid_of(args):
    items = args if isinstance(args, (list, tuple)) else ()
    return next((int(a[4:]) for a in items if isinstance(a, str) and a.startswith("uid=")), None)


def _kill_all_of(uid, wait=5.0):
    """Kill every process that holds ``uid`` as its real, effective, saved or
    filesystem uid (only the child and what it started do); whether they were all
    gone, zombies included, within ``wait`` seconds."""
    deadline, pause = time.monotonic() + wait, 0.001
    while True:
        alive = [int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit() and uid in _uids(entry)]
        if not alive:
            return True
        if time.monotonic() > deadline:
            return False
        for pid in alive:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        # A killed process is usually gone within a millisecond; one stuck in the
        # kernel is looked at less and less often.
        time.sleep(pause)
        pause = min(2 * pause, 0.05)


def _uids(entry):
    """The real, effective, saved and filesystem uids of the process ``entry``
    (/proc/PID): the owner of the entry itself is only the effective one, and a
    setuid program that left the real one behind would escape."""
    try:
        with open(entry / "status", "rb") as status:
            line = next(line for line in status if line.startswith(b"Uid:"))
        return {int(n) for n in line.split()[1:]}
    except (OSError, StopIteration, ValueError):
        return set()


def _remove_files_of(uid, roots=SHARED_WRITABLE, within=None):
    """Delete what ``uid`` left in the folders every user may write to, once its
    processes are gone; descends only into folders it owns or others may enter,
    never follows a link and opens nothing but folders. Whether it was done within
    ``within`` seconds (None: however long it takes)."""
    deadline = None if within is None else time.monotonic() + within
    for root in {*roots, tempfile.gettempdir()}:
        try:
            folder = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except OSError:
            continue
        try:
            if not _sweep(folder, uid, SWEEP_DEPTH, deadline):
                return False
        finally:
            os.close(folder)
    return True


def _sweep(folder, uid, depth, deadline):
    """Whether the sweep of ``folder`` ended before ``deadline``."""
    with os.scandir(folder) as entries:
        found = [(e.name, e.stat(follow_symlinks=False)) for e in entries]
    for name, info in found:
        if deadline is not None and time.monotonic() > deadline:
            return False
        try:
            if stat.S_ISDIR(info.st_mode):
                if depth and (info.st_uid == uid or info.st_mode & 0o001):
                    inner = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=folder)
                    try:
                        if not _sweep(inner, uid, depth - 1, deadline):
                            return False
                    finally:
                        os.close(inner)
                if info.st_uid == uid:
                    os.rmdir(name, dir_fd=folder)
            elif info.st_uid == uid:
                os.unlink(name, dir_fd=folder)
        except OSError:  # gone already, or a folder someone else still fills
            pass
    return True


def _signal_name(number):
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"
