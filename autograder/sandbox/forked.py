"""``ForkedLauncher``: bubblewrap's confinement at the cost of a fork per child.

Starting a sandboxed child costs bubblewrap, Python and numpy (about 0.15 s), as
much as grading the submission. A grader that is root instead keeps a sandbox
running with a fork server in it (forkserver.py), which has imported numpy and
the runner once, and forks a child per submission. Each child is confined as
``BubblewrapLauncher`` confines it: the same namespaces and read-only filesystem,
a pool uid of its own (never root), the limits and no_new_privs; its copy of the
submission is read-only at /submissions/NAME (the grader's scratch folder, where
it can open its own copy and list nothing).

A sandbox serves one child at a time, so a child sees no other submission's
processes or files. When the child is stopped, every process of its uid is
killed, and a copy of the server that becomes that uid removes what it left in
the sandbox's /tmp, inside the sandbox (so no link it made can lead to the
grader's files, and nothing it made is opened but its folders); only then does
the uid go back to the pool and the sandbox serve the next child. What else could
outlive a child there (System V IPC, message queues, keys, sockets) its
system-call filter never lets it make. A sandbox in which something of the
child's could not be killed or removed in time is never used again. Sandboxes are
kept per grading process and end with it (bubblewrap's --die-with-parent, and the
server ends when its socket closes).
"""
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from ..kit.runner.client import CHILD
from . import scratch
from .launchers import CONFINE_IN_SANDBOX, SCRATCH_FILES, UIDS, BubblewrapLauncher, SandboxUnavailable, _kill_all_of

FORKSERVER = Path(__file__).with_name("forkserver.py")
FORKSERVER_IN_SANDBOX = "/sandbox/forkserver.py"
SUBMISSIONS_IN_SANDBOX = "/submissions"
READY_TIMEOUT = 60.0  # seconds for a new sandbox to import numpy, on a loaded machine
MESSAGE_BYTES = 1 << 16


class ForkServer:
    """One sandbox with a fork server in it, and the grader's end of its socket."""

    def __init__(self, launcher):
        control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        runner = Path(CHILD).resolve().parent
        binds = {runner: "/runner", FORKSERVER: FORKSERVER_IN_SANDBOX, scratch.run_folder(): SUBMISSIONS_IN_SANDBOX}
        server = [sys.executable, "-I", FORKSERVER_IN_SANDBOX, CONFINE_IN_SANDBOX, f"/runner/{CHILD.name}",
                  str(theirs.fileno()), str(SCRATCH_FILES)]
        try:
            self.process = subprocess.Popen(
                launcher.bubblewrap(binds, *launcher.scratch_files_capability()) + server,
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                pass_fds=(theirs.fileno(),), **launcher.popen_options())
        finally:
            theirs.close()
        self.control = control
        self.lock = threading.Lock()
        self.exits = {}  # pid -> returncode, of children that ended
        self.ready, self.alive = False, True

    def _wait_ready(self):
        """Wait (once) until the server has imported numpy and the runner."""
        if self.ready:
            return
        try:
            if self._receive(READY_TIMEOUT) != {"ready": True}:
                raise OSError("it did not say it was ready")
        except (OSError, ValueError) as err:
            self.process.kill()
            self.process.wait()  # the sandbox ends with bubblewrap, and with it every writer of the pipe
            said = self.process.stderr.read(2000).decode(errors="replace").strip()
            self.close()
            raise SandboxUnavailable(f"the sandbox's fork server did not start ({err}): {said}") from None
        self.ready = True

    def start(self, folder, settings, fds):
        """Fork a child for the submission at ``folder`` (inside the sandbox) with
        ``settings`` for confine and the descriptors ``fds``; its pid in the sandbox."""
        with self.lock:
            self._wait_ready()
            try:
                return self._fork({"folder": folder, "settings": settings}, fds)
            except OSError:
                self.close()
                raise

    def clean(self, uid, within):
        """Have a copy of the server that becomes ``uid`` remove what ``uid`` left in the
        sandbox's /tmp (its processes are all gone); whether it did, within ``within``
        seconds."""
        with self.lock:
            try:
                pid = self._fork({"clean": uid})
            except OSError:
                return False
        return self.wait(pid, within) == 0

    def _fork(self, request, fds=()):
        """Send a request the server answers by forking; the copy's pid in the sandbox."""
        reply = self._ask(request, fds)
        if reply is None or not isinstance(reply.get("pid"), int):
            raise OSError("the sandbox's fork server ended")
        # An exit kept for this pid is an earlier copy's: pids wrap.
        self.exits.pop(reply["pid"], None)
        return reply["pid"]

    def wait(self, pid, timeout=None):
        """``pid``'s return code, once the server has reaped it (None after ``timeout``
        seconds); -9 if the server itself is gone, which ends every child with it."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self.lock:
            while pid not in self.exits:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return None
                if self._receive(left) is None and not self.alive:
                    return -9
            return self.exits.pop(pid)

    def _ask(self, request, fds=()):
        """Send ``request`` (with descriptors ``fds``) and return the server's answer,
        the next message that is not an exit; None if it ended or did not answer."""
        socket.send_fds(self.control, [json.dumps(request).encode()], list(fds))
        while True:
            message = self._receive(READY_TIMEOUT)
            if message is None or "returncode" not in message:
                return message

    def _receive(self, timeout):
        """The next message (an exit is also kept in ``exits``); None after
        ``timeout`` seconds or at the end of the socket."""
        self.control.settimeout(timeout)
        try:
            data = self.control.recv(MESSAGE_BYTES)
        except (TimeoutError, OSError):
            return None
        if not data:
            self.alive = False
            return None
        message = json.loads(data)
        if "returncode" in message:
            self.exits[message["pid"]] = message["returncode"]
        return message

    def close(self):
        self.alive = False
        self.control.close()
        self.process.kill()
        self.process.wait()
        self.process.stderr.close()


class ForkedChild:
    """What ChildRunner needs of a process, for a child forked in a sandbox."""

    def __init__(self, server, pid, uid, stdin, stdout, stderr):
        self.server, self.pid, self.uid = server, pid, uid
        self.stdin, self.stdout, self.stderr = stdin, stdout, stderr
        self.args = [f"forked child {pid}", f"uid={uid}"]
        self.returncode = None

    def wait(self, timeout=None):
        if self.returncode is None:
            self.returncode = self.server.wait(self.pid, timeout)
            if self.returncode is None:
                raise subprocess.TimeoutExpired(self.args, timeout)
        return self.returncode


class ForkedLauncher(BubblewrapLauncher):
    """Children forked in a kept sandbox (see the module); root only, since each
    child needs a pool uid of its own to be kept apart from the server and the
    next child. Its protections are bubblewrap's."""

    _idle, _lock = [], threading.Lock()  # sandboxes ready for a child, per grading process

    def __init__(self, limits=None, *, bwrap=None):
        super().__init__(limits, bwrap=bwrap)
        if not self.as_root:
            raise SandboxUnavailable("the forked sandbox gives each child a uid of its own, which needs root")

    def start(self, argv, submission, response_fd):
        submission = Path(submission)
        uid = UIDS.take()
        try:
            scratch.hand_over(submission, uid)  # refuses anything but a scratch copy
            server = self._server()
            (stdin, to_child), (from_out, out), (from_err, err) = (os.pipe() for _ in range(3))
            settings = dict(item.split("=", 1) for item in self.limits.confine_args() + [f"uid={uid}"])
            try:
                pid = server.start(f"{SUBMISSIONS_IN_SANDBOX}/{submission.name}", settings,
                                   [stdin, out, err, response_fd])
            except BaseException:
                for fd in (to_child, from_out, from_err):
                    os.close(fd)
                raise
            finally:
                for fd in (stdin, out, err):  # the child's ends: it has its own copies
                    os.close(fd)
        except BaseException:
            if _kill_all_of(uid):  # a child may have been forked before the server failed
                UIDS.give_back(uid)
            raise
        return ForkedChild(server, pid, uid, os.fdopen(to_child, "wb"), os.fdopen(from_out, "rb"),
                           os.fdopen(from_err, "rb"))

    def prepare(self):
        """Start a sandbox now, if none is waiting, so that its start-up (Python and
        numpy) overlaps the grader's own until the first child is needed."""
        with self._lock:
            if not self._idle:
                self._idle.append(ForkServer(self))

    def _server(self):
        with self._lock:
            while self._idle:
                server = self._idle.pop()
                if server.alive and server.process.poll() is None:
                    return server
                server.close()
        return ForkServer(self)

    def stop(self, process, within=None):
        """Kill every process of the child's uid, remove what it left in the sandbox's
        /tmp within ``within`` seconds, and only then give the uid back and the sandbox
        to the next child; a sandbox that could not be cleaned in time is closed (the
        kernel frees its /tmp, so a child's leftovers cost only its own submission's time)."""
        if not _kill_all_of(process.uid):
            process.server.close()  # something of this child lives on: no one else goes in there
            return
        process.wait()
        if not process.server.clean(process.uid, within):
            process.server.close()
            if not _kill_all_of(process.uid):  # the copy that was cleaning, which ends with the sandbox
                return
        UIDS.give_back(process.uid)
        if process.server.alive:
            with self._lock:
                self._idle.append(process.server)
