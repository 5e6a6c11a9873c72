"""The parent's side: start the child, send calls, enforce a time limit per call
and a time budget per submission, drain the child's output, and turn every failure
into a sentence for the student. Every write to the child and every read from it
has the call's deadline, so no child, whatever it does, can block the parent.
"""
import fcntl
import os
import select
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from ..framework import StudentError
from . import wire

CHILD = Path(__file__).with_name("child.py")
DEFAULT_TIMEOUT = 5.0  # seconds for one call of a student function
# Seconds for all the calls of one submission (a grading makes about 230): the
# reference takes under 1 s, and a submission whose every call takes just under
# the time limit would otherwise hold a grader for 20 minutes.
DEFAULT_BUDGET = 60.0
READ_CHUNK = 1 << 20
# The response pipe's capacity where the system allows it to be set: a large reply
# (a 1.2 MB draw of weights) then crosses in one or two writes, not twenty 64 KiB ones.
PIPE_SIZE = 1 << 20


@dataclass(frozen=True)
class Handle:
    """A value that stays in the child (e.g. a forward pass's cache)."""
    id: int


@dataclass(frozen=True)
class Seed:
    """Sent as an argument, becomes ``np.random.default_rng(seed)`` in the child."""
    seed: int


@dataclass
class Call:
    """What a call brought back: the return value and the arguments as they were
    after the call (so that checks can see updates and in-place modifications)."""
    value: object
    args: tuple
    output: str = ""


class Launcher:
    """Starts the child as a plain process. A sandbox subclasses it to confine the
    child; ``protections`` names what is in force."""
    protections = ("time limit per call", "separate process")

    def prepare(self):
        """Get ready for a first child ahead of time, where a launcher can (the kept
        sandbox starts its server); the caller goes on meanwhile."""

    def start(self, argv, submission, response_fd):
        """Start the child ``argv`` for the folder ``submission``, handing it the
        write end ``response_fd`` of the response pipe; return a process with
        ``stdin``, ``stdout`` and ``stderr`` pipes (a ``subprocess.Popen``, or
        what behaves like one)."""
        return subprocess.Popen(self.command(argv, submission), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, pass_fds=(response_fd,), **self.popen_options())

    def command(self, argv, submission):
        return argv

    def popen_options(self):
        return {"start_new_session": True}

    def stop(self, process, within=None):
        """Stop the child; a sandbox also removes what it left, taking at most ``within``
        seconds (None: as long as it needs) before it discards what is not clean yet."""
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        process.kill()

    def explain_death(self, returncode):
        """A sentence for a child that died without answering, or None."""
        return None


class _Drain(threading.Thread):
    """Reads a pipe to its end, keeping at most ``limit`` bytes since the last reset."""

    def __init__(self, pipe, limit):
        super().__init__(daemon=True)
        self.pipe, self.limit = pipe, limit
        self.kept, self.dropped = bytearray(), 0
        self.lock = threading.Lock()

    def run(self):
        for chunk in iter(lambda: self.pipe.read1(65536), b""):
            with self.lock:
                room = self.limit - len(self.kept)
                self.kept += chunk[:max(room, 0)]
                self.dropped += max(len(chunk) - max(room, 0), 0)

    def take(self):
        with self.lock:
            text = self.kept.decode(errors="replace")
            if self.dropped:
                text += f"\n[... {self.dropped} more bytes of output dropped]"
            self.kept, self.dropped = bytearray(), 0
            return text


class ChildRunner:
    """Calls functions of the modules in ``submission`` inside a child process.

    ``functions`` maps a function name to the module that defines it. Each call
    must answer within ``timeout`` seconds; otherwise, or if the child dies, the
    child is stopped and the next call starts a fresh one. All calls together may
    take ``budget`` seconds; once it is spent, every further call fails at once.
    """

    def __init__(self, submission, functions, *, timeout=DEFAULT_TIMEOUT, budget=DEFAULT_BUDGET, launcher=None,
                 output_limit=4096):
        self.submission = Path(submission)
        self.functions = functions
        self.timeout = timeout
        self.budget = budget
        self._spent = 0.0  # seconds taken by the calls so far
        self._call_started = None  # when the call under way started
        self.launcher = launcher or Launcher()
        self.output_limit = output_limit
        self._process = self._responses = None
        self._drains = ()
        self._last_returncode = None
        self._hung = {}  # function -> sentence: a function that timed out is not called again

    @property
    def protections(self):
        return tuple(self.launcher.protections)

    def call(self, function, *args, keep=(), **kwargs):
        """Call ``function(*args, **kwargs)`` in the child; ``keep`` lists the items
        of a returned tuple that stay there, answered by a ``Handle``."""
        if function in self._hung:
            raise StudentError(self._hung[function])
        if self._spent >= self.budget:
            raise StudentError(self._budget_sentence())
        self._call_started = time.monotonic()
        try:
            return self._call(function, args, kwargs, keep)
        finally:
            self._spent += time.monotonic() - self._call_started
            self._call_started = None

    def _budget_left(self):
        under_way = time.monotonic() - self._call_started if self._call_started is not None else 0.0
        return self.budget - self._spent - under_way

    def _call(self, function, args, kwargs, keep):
        request = {"module": self.functions[function], "function": function, "args": list(args),
                   "kwargs": kwargs, "keep": list(keep)}
        for drain in self._drains:
            drain.take()
        try:
            reply = self._exchange(function, wire.encode(request, _ENCODERS))
        except (BrokenPipeError, wire.WireError, _Died) as err:
            timed_out = isinstance(err, _Died) and err.args[0]
            # A child that stopped answering is given a moment to finish dying, so
            # that its own exit status (a signal, a limit) explains what happened.
            self.close(grace=0 if timed_out or isinstance(err, wire.WireError) else 1.0)
            sentence = self._death_sentence(function, err)
            if timed_out:
                self._hung[function] = sentence
            raise StudentError(sentence) from None
        output = "".join(drain.take() for drain in self._drains)
        if not isinstance(reply, dict) or not reply.get("ok"):
            message = reply.get("error") if isinstance(reply, dict) else None
            raised = reply.get("raised") if isinstance(reply, dict) else None
            if not message or not isinstance(message, str):
                message = f"{function} failed"
            raised = tuple(name for name in raised if isinstance(name, str)) if isinstance(raised, list) else ()
            raise StudentError(message + _printed(output), raised=raised)
        args_after = reply.get("args")
        if not isinstance(args_after, list) or len(args_after) != len(args):
            self.close()
            raise StudentError(f"the process running {function} answered out of protocol")
        return Call(reply.get("value"), tuple(args_after), output)

    def _exchange(self, function, request):
        """Send a request and read its reply. The child acknowledges a request
        before it runs any student code; one that fails before that (that stops
        reading requests, or sends no receipt) was left broken by an earlier call
        (which, say, closed the runner's pipe, or still runs), so the request goes
        once more, to a fresh child."""
        for retry in (True, False):
            process = self._process or self._start()
            try:
                self._arm(function)
                self._send(process, request)
                receipt = self._responses.read(len(wire.RECEIPT))
                if not receipt:
                    raise _Died(None)
                if receipt != wire.RECEIPT:
                    raise wire.WireError("the request was not acknowledged")
            except (BrokenPipeError, wire.WireError, _Died) as err:
                if not retry:
                    raise
                self.close(grace=0 if isinstance(err, _Died) and err.args[0] else 1.0)  # late: no use waiting
                continue
            self._arm(function)
            tree = wire.read_message(self._responses)
            if tree is None:
                raise _Died(None)
            reply = wire.decode(tree, self._responses, _DECODERS)
            if time.monotonic() > self._responses.deadline:
                raise _Died(self._responses.late)
            return reply

    def _send(self, process, request):
        """Write ``request`` to the child's standard input (non-blocking) by the deadline
        of the reads: a child that stops reading is late, never able to block the parent."""
        fd, unsent = process.stdin.fileno(), memoryview(request)
        while unsent:
            try:
                unsent = unsent[os.write(fd, unsent):]
            except BlockingIOError:
                left = self._responses.deadline - time.monotonic()
                if left <= 0:
                    raise _Died(self._responses.late) from None
                select.select([], [fd], [], left)

    def _arm(self, function):
        """Set the deadline of the next exchange: the call's time limit, or what is left of the budget."""
        now = time.monotonic()
        left = self._budget_left()
        if left < self.timeout:
            self._responses.deadline, self._responses.late = now + left, self._budget_sentence()
        else:
            self._responses.deadline = now + self.timeout
            self._responses.late = (f"{function} did not return within {self.timeout:g} s; is there an endless "
                                    "loop, or a computation far slower than it needs to be?")

    def _budget_sentence(self):
        return (f"the submission used up its time budget of {self.budget:g} s; the remaining checks were not "
                "run")

    def _death_sentence(self, function, err):
        if isinstance(err, _Died) and err.args[0]:
            return err.args[0]
        if isinstance(err, wire.TooLarge):
            return f"the process running {function} sent back an answer larger than the grader accepts ({err})"
        if isinstance(err, wire.WireError):
            return f"the process running {function} sent back a malformed answer ({err})"
        returncode = self._last_returncode
        reason = self.launcher.explain_death(returncode)
        return reason.format(function=function) if reason else (
            f"the process running {function} ended without answering (exit status {returncode}); "
            "does your code call sys.exit or os._exit, or crash the interpreter?")

    def start(self):
        """Start the child now rather than at the first call, so that its start-up
        (Python and numpy) overlaps the caller's own work."""
        if self._process is None:
            self._start()

    def _start(self):
        read_fd, write_fd = os.pipe()
        try:
            fcntl.fcntl(write_fd, fcntl.F_SETPIPE_SZ, PIPE_SIZE)
        except (AttributeError, OSError):  # not Linux, or above the system's limit: the default stays
            pass
        argv = [sys.executable, "-I", str(CHILD), str(self.submission), str(write_fd)]
        try:
            self._process = self.launcher.start(argv, self.submission, write_fd)
        except BaseException:
            os.close(read_fd)
            raise
        finally:
            os.close(write_fd)
        os.set_blocking(self._process.stdin.fileno(), False)
        self._responses = _Channel(read_fd)
        self._drains = [_Drain(self._process.stdout, self.output_limit),
                        _Drain(self._process.stderr, self.output_limit)]
        for drain in self._drains:
            drain.start()
        return self._process

    def close(self, grace=0.0):
        process, self._process = self._process, None
        if process is None:
            return
        if grace:
            try:
                process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                pass
        # What the child left is removed in the time left to its submission (at most a
        # call's time limit): its cleanup costs nobody else.
        self.launcher.stop(process, within=max(0.0, min(self.timeout, self._budget_left())))
        self._last_returncode = process.wait()
        for stream in (process.stdin, self._responses):
            try:
                stream.close()
            except OSError:
                pass
        for drain in self._drains:
            drain.join(timeout=1)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


_ENCODERS = {Handle: lambda h: {"$": "handle", "id": h.id}, Seed: lambda s: {"$": "seed", "seed": s.seed}}
_DECODERS = {"handle": lambda t: Handle(int(t["id"]))}


class _Died(Exception):
    pass


class _Channel:
    """The child's response pipe, read against a deadline: a child that stalls
    before or in the middle of a message is late, never able to block the parent."""

    def __init__(self, fd):
        self.fd, self.buffer = fd, bytearray()
        self.deadline, self.late = None, None

    def read(self, n):
        while len(self.buffer) < n:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise _Died(self.late)
            ready, _, _ = select.select([self.fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(self.fd, min(READ_CHUNK, max(65536, n - len(self.buffer))))
            if not chunk:
                break
            self.buffer += chunk
        with memoryview(self.buffer) as view:
            data = bytes(view[:n])  # one copy (slicing the bytearray would make two)
        del self.buffer[:n]
        return data

    def close(self):
        os.close(self.fd)


def _printed(output):
    output = output.strip()
    return f"\nYour code printed:\n{output[-1500:]}" if output else ""
