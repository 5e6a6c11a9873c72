"""The cost of one call to the child process, measured on its own: a small array
sent to a function that returns it, against a bare pipe round trip between two
Python processes, measured in the same run; and the cost of starting a child with
each launcher."""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from autograder import sandbox
from autograder.kit.runner import ChildRunner, Launcher

from .sections import Section, seconds

TARGET = 0.3e-3  # seconds: the median round trip of a small array
SMALL = np.arange(12.0).reshape(4, 3)
# The bare round trip: the child echoes whatever it reads, unbuffered, as the runner's
# child answers a request, with no codec, receipt or time limit.
ECHO = "import os\nwhile True:\n    data = os.read(0, 65536)\n    if not data:\n        break\n    os.write(1, data)\n"


def micro(seconds):
    return f"{seconds * 1e6:.0f} µs"


def bare_pipe(calls, size):
    """Median time for ``size`` bytes to go to a child and back through pipes."""
    child = subprocess.Popen([sys.executable, "-I", "-c", ECHO], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    message = bytes(size)

    def echo():
        os.write(child.stdin.fileno(), message)
        got = 0
        while got < size:
            got += len(os.read(child.stdout.fileno(), 65536))
    try:
        echo()
        return seconds(echo, calls)
    finally:
        child.stdin.close()
        child.wait()
        child.stdout.close()


def runner_call(calls, launcher=None):
    """Median time of ``runner.call("echo", SMALL)`` on a warm child (a plain process
    unless ``launcher`` says otherwise)."""
    with tempfile.TemporaryDirectory(prefix="bench-calls-") as folder:
        (Path(folder) / "echo.py").write_text("def echo(x):\n    return x\n")
        with ChildRunner(folder, {"echo": "echo"}, launcher=launcher or Launcher()) as runner:
            runner.call("echo", SMALL)
            return seconds(lambda: runner.call("echo", SMALL), calls)


def round_trip(calls):
    """The section "A call to the child" and its numbers."""
    section = Section("A call to the child", ["what", "median", "vs. bare pipe"])
    # A request for echo(SMALL) and its reply are each about 300 bytes.
    bare = bare_pipe(calls, 300)
    call = runner_call(calls)
    section.rows.append(["bare pipe round trip of 300 bytes between two Python processes (baseline)", micro(bare),
                         "1x"])
    section.rows.append(["`ChildRunner.call(\"echo\", x)`, x a (4, 3) float64 array, warm child",
                         micro(call), f"{call / bare:.0f}x"])
    section.notes.append(f"Medians of {calls} calls each. A call encodes the request, waits for the child's "
                         "receipt (sent before any student code runs), and decodes the reply and the arguments "
                         "as they were after the call, all within the call's time limit.")
    return section, {"call": call, "bare_pipe": bare}


def _first_answer(launcher):
    """Seconds from nothing to the first answer of a fresh child started by
    ``launcher``, for a scratch copy as grade_submission makes one."""
    copy = sandbox.scratch.new_copy()
    try:
        (copy / "echo.py").write_text("def echo(x):\n    return x\n")
        start = time.perf_counter()
        with ChildRunner(copy, {"echo": "echo"}, launcher=launcher) as runner:
            runner.call("echo", SMALL)
        return time.perf_counter() - start
    finally:
        shutil.rmtree(copy, ignore_errors=True)


def child_start(starts):
    """The section "Starting a child": each launcher, taken in turn, ``starts`` times."""
    launchers = [("plain child process (`Launcher()`)", Launcher()),
                 ("a bubblewrap sandbox per child (`BubblewrapLauncher`)", sandbox.BubblewrapLauncher())]
    try:
        launchers.append(("a child forked in the kept sandbox (`ForkedLauncher`, the default as root)",
                          sandbox.ForkedLauncher()))
    except sandbox.SandboxUnavailable:  # not root: the row is left out, and the note says why
        pass
    for _, launcher in launchers:  # warm-up: the kept sandbox starts its fork server here
        _first_answer(launcher)
    times = [[] for _ in launchers]
    for _ in range(starts):
        for i, (_, launcher) in enumerate(launchers):
            times[i].append(_first_answer(launcher))
    section = Section("Starting a child", ["launcher", "median time to the first answer", "vs. plain"])
    plain = statistics.median(times[0])
    for (label, _), measured in zip(launchers, times):
        section.rows.append([label, f"{statistics.median(measured) * 1e3:.1f} ms",
                             f"{statistics.median(measured) / plain:.2f}x"])
    section.notes.append(f"Medians of {starts} starts each, the launchers taken in turn after one warm-up start "
                         "each: from a scratch copy to the answer of a first call, including stopping the child. "
                         "Each submission graded starts one child (more when a function crashes or hangs)."
                         + ("" if len(launchers) == 3 else " The kept sandbox needs a grader that is root."))
    return section, {"child_start": dict(zip(("plain", "bubblewrap", "forked"), map(statistics.median, times)))}
