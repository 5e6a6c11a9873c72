"""The fork server: it runs inside a bubblewrap sandbox and starts each child that
runs student code by forking itself, so that a child costs a fork instead of a
start of Python and numpy.

    python -I forkserver.py CONFINE_PY CHILD_PY CONTROL_FD

A trusted helper of ``ForkedLauncher`` (forked.py). The grader is root, so the
server runs as root with only CAP_SETUID and CAP_SETGID. It imports the runner's
child module (and with it numpy) once, says {"ready": true} on CONTROL_FD (a Unix
seqpacket socket to the grader) and serves requests there, one JSON message each:

    {"folder": "/submissions/NAME", "settings": {"as": "...", "uid": "U", ...}}

carrying four descriptors: the child's standard input, output and error and its
response pipe. The server forks; the copy makes them its descriptors 0, 1, 2 and 4
(as a child started by ``python child.py FOLDER 4`` would have them), closes
every other one, starts a session of its own, confines itself as
confine.py would (limits, the pool uid ``U``, no_new_privs) and serves the
submission in ``folder``. The server answers {"pid": P} and, when P ends,
{"pid": P, "returncode": R} (negative R: killed by signal -R). Once the grader has
killed every process of a child's uid U, {"sweep": U} removes the System V IPC
objects U left in the sandbox (shared memory would stay pinned for the next
children); the server answers {"swept": true} when none is left.

The server never opens a submission: a child inherits numpy and the runner,
nothing of another child. It imports nothing but the standard library and the
two files it is given: it runs where the grader's packages are not.
"""
import ctypes
import fcntl
import importlib.util
import json
import os
import select
import signal
import socket
import sys
import traceback

MESSAGE_BYTES = 1 << 16
CHILD_FDS = 4  # standard input, output, error, and the response pipe
RESPONSE_FD = 4
IPC_CONTROLS = {"shm": "shmctl", "msg": "msgctl", "sem": "semctl"}  # /proc/sysvipc/KIND: libc's remover
IPC_RMID = 0


def load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def become_child(request, fds, confine, child):
    """In the forked copy: take the child's descriptors, confine, serve; never return."""
    code = 1
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.setsid()
        # The layout of a child started as ``python child.py FOLDER FD``: standard
        # input, output and error, the response pipe above 3 (which the runner's own
        # copy of its requests takes), and no other descriptor.
        high = [fcntl.fcntl(fd, fcntl.F_DUPFD, RESPONSE_FD + 1) for fd in fds]
        for target, fd in zip((0, 1, 2, RESPONSE_FD), high):
            os.dup2(fd, target)
        os.closerange(3, RESPONSE_FD)
        os.closerange(RESPONSE_FD + 1, os.sysconf("SC_OPEN_MAX"))
        os.chdir("/tmp")
        confine.confine(request["settings"])
        sys.modules["__main__"] = child
        sys.argv = [child.__file__, request["folder"], str(RESPONSE_FD)]
        child.main(request["folder"], RESPONSE_FD)
        code = 0
    except BaseException:  # noqa: B036 (whatever happens, this copy must not return into the server)
        traceback.print_exc()
    finally:
        os._exit(code)


def ipc_objects_of(uid):
    """(kind, id) of every System V IPC object in the sandbox's IPC namespace that
    ``uid`` owns or created: what a child may leave there, which would outlive it."""
    found = []
    for kind in IPC_CONTROLS:
        with open(f"/proc/sysvipc/{kind}") as table:
            header = table.readline().split()  # key, then the id: shmid, msqid or semid
            for line in table:
                row = dict(zip(header, line.split()))
                if uid in (int(row["uid"]), int(row["cuid"])):
                    found.append((kind, int(row[header[1]])))
    return found


def sweep(uid, confine):
    """Remove what ``uid`` left in the sandbox's IPC namespace (its processes are all
    gone): in a forked copy that becomes ``uid``, the owner, which may remove them.
    Whether all went."""
    found = ipc_objects_of(uid)
    if not found:
        return True
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            confine.confine({"uid": str(uid)})
            libc = ctypes.CDLL(None, use_errno=True)
            for kind, ident in found:
                args = (ident, 0, IPC_RMID) if kind == "sem" else (ident, IPC_RMID, None)
                getattr(libc, IPC_CONTROLS[kind])(*args)
            code = 0 if not ipc_objects_of(uid) else 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


def reap(control):
    """Report every child that has ended."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        control.send(json.dumps({"pid": pid, "returncode": os.waitstatus_to_exitcode(status)}).encode())


def serve(control, confine, child):
    woken, wake = os.pipe()
    os.set_blocking(wake, False)
    signal.set_wakeup_fd(wake)
    signal.signal(signal.SIGCHLD, lambda number, frame: None)
    control.send(b'{"ready": true}')
    while True:
        ready, _, _ = select.select([control, woken], [], [])
        if woken in ready:
            os.read(woken, 4096)
            reap(control)
        if control in ready:
            message, fds, _, _ = socket.recv_fds(control, MESSAGE_BYTES, CHILD_FDS)
            if not message:
                return  # the grader is gone; so is everything started here, with the sandbox
            request = json.loads(message)
            if "sweep" in request and not fds:
                try:
                    swept = sweep(int(request["sweep"]), confine)
                except (OSError, ValueError, KeyError):  # the tables could not be read: nothing is known swept
                    swept = False
                control.send(json.dumps({"swept": swept}).encode())
                continue
            if len(fds) != CHILD_FDS:
                raise SystemExit(f"forkserver.py: a request came with {len(fds)} descriptors, not {CHILD_FDS}")
            pid = os.fork()
            if pid == 0:
                control.close()
                become_child(request, fds, confine, child)
            for fd in fds:
                os.close(fd)
            control.send(json.dumps({"pid": pid}).encode())


def main(argv):
    confine_py, child_py, control_fd = argv
    confine = load("confine", confine_py)
    child = load("child", child_py)
    serve(socket.socket(fileno=int(control_fd)), confine, child)


if __name__ == "__main__":
    main(sys.argv[1:])
