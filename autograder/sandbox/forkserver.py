"""The fork server: it runs inside a bubblewrap sandbox and starts each child that
runs student code by forking itself, so that a child costs a fork instead of a
start of Python and numpy.

    python -I forkserver.py CONFINE_PY CHILD_PY CONTROL_FD FILES

A trusted helper of ``ForkedLauncher`` (forked.py). The grader is root, so the
server runs as root with only CAP_SETUID and CAP_SETGID (and CAP_SYS_ADMIN until it
has capped the files of the sandbox's /tmp at FILES, then never again). It notes what
/tmp holds (bubblewrap's own folders), imports the runner's child module (and with
it numpy) once, says {"ready": true} on CONTROL_FD (a Unix seqpacket socket to the
grader) and serves requests there, one JSON message each:

    {"folder": "/submissions/NAME", "settings": {"as": "...", "uid": "U", ...}}

carrying four descriptors: the child's standard input, output and error and its
response pipe. The server forks; the copy makes them its descriptors 0, 1, 2 and 4
(as a child started by ``python child.py FOLDER 4`` would have them), closes
every other one, starts a session of its own, confines itself as confine.py
would (limits, the pool uid ``U``, no_new_privs, the system-call filter) and
serves the submission in ``folder``. The server answers {"pid": P} and, when P ends,
{"pid": P, "returncode": R} (negative R: killed by signal -R). Once the grader has
killed every process of a child's uid U, {"clean": U} forks a copy that becomes U and
removes what U left in /tmp: it answers {"pid": P} too, and P's return code is 0 when
/tmp holds again only what it held at the start. The server never waits for a copy,
so a slow one never stalls it; the grader decides how long it waits.

The server never opens a submission: a child inherits numpy and the runner,
nothing of another child. It imports nothing but the standard library and the
two files it is given: it runs where the grader's packages are not.
"""
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
OPEN_FOLDER = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def forked_copy():
    """In a copy the server just forked: undo the server's signal handling."""
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)


def become_child(request, fds, confine, child):
    """In the forked copy: take the child's descriptors, confine, serve; never return."""
    code = 1
    try:
        forked_copy()
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


def clean(uid, confine, skeleton):
    """In the forked copy: become ``uid`` (its processes are all gone) and remove what
    it left in /tmp; exit 0 when /tmp holds only ``skeleton`` again; never return. As
    ``uid``, in the sandbox, a mistake here could reach nothing but the uid's own files."""
    code = 1
    try:
        forked_copy()
        confine.confine({"uid": str(uid)})
        top = os.open("/tmp", OPEN_FOLDER)
        empty(top, skeleton)
        code = 0 if set(os.listdir(top)) <= skeleton else 1
    finally:
        os._exit(code)


def empty(top, keep):
    """Remove everything in the folder open at ``top`` but the names ``keep`` at its
    top: files, links, FIFOs and sockets are unlinked, never opened or followed; a
    folder is opened (O_NOFOLLOW), emptied, and removed. One folder is open at a
    time and the way back is "..", so a tree of any depth goes."""
    entered = []  # the names of the folders entered, from ``top`` down
    here = os.dup(top)
    try:
        while True:
            with os.scandir(here) as entries:
                found = [(e.name, e.is_dir(follow_symlinks=False)) for e in entries
                         if entered or e.name not in keep]
            inner = None
            for name, is_folder in found:
                if not is_folder:
                    os.unlink(name, dir_fd=here)
                elif inner is None:
                    inner = name
            if inner is not None:
                os.chmod(inner, 0o700, dir_fd=here)  # the uid's own folder, whatever modes it gave it
                there = os.open(inner, OPEN_FOLDER, dir_fd=here)
                entered.append(inner)
            elif entered:
                there = os.open("..", OPEN_FOLDER, dir_fd=here)
                os.rmdir(entered.pop(), dir_fd=there)
            else:
                return
            os.close(here)
            here = there
    finally:
        os.close(here)


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


def serve(control, confine, child, skeleton):
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
            if "clean" not in request and len(fds) != CHILD_FDS:
                raise SystemExit(f"forkserver.py: a request came with {len(fds)} descriptors, not {CHILD_FDS}")
            pid = os.fork()
            if pid == 0:
                control.close()
                if "clean" in request:
                    clean(int(request["clean"]), confine, skeleton)
                become_child(request, fds, confine, child)
            for fd in fds:
                os.close(fd)
            control.send(json.dumps({"pid": pid}).encode())


def main(argv):
    confine_py, child_py, control_fd, files = argv
    confine = load("confine", confine_py)
    confine.limit_scratch_files(int(files))
    # What bubblewrap put in /tmp before (the folders leading to a venv that lives under
    # the host's /tmp): root's, in a sticky folder, so no child can remove or change them.
    skeleton = frozenset(os.listdir("/tmp"))
    child = load("child", child_py)
    serve(socket.socket(fileno=int(control_fd)), confine, child, skeleton)


if __name__ == "__main__":
    main(sys.argv[1:])
