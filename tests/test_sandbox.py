"""Choosing the sandbox: the default of grade_submission, the command line's
--sandbox and --memory, the protections each result names, and the system-call
filter of confine.py, which every confining launcher starts the child through."""
import errno
import json
import os
import signal
import subprocess
import sys

import pytest

from autograder import sandbox
from autograder.cli import main
from autograder.grade import grade_submission
from autograder.sandbox import confine
from autograder.sandbox.launchers import CONFINE
from conftest import SOLUTIONS


def test_grading_is_sandboxed_by_default():
    result = grade_submission(SOLUTIONS)
    assert result.score == result.max_score
    # CI runs as root with bubblewrap installed by `make venv`: there the full sandbox must be in force.
    full = sandbox.bubblewrap_works() or (os.environ.get("CI") and os.geteuid() == 0)
    expected = "PID namespace" if full else "own process group"
    assert any(expected in p for p in result.protections), result.protections


def fallback_refuses_here():
    """Whether the fallback refuses to run here: as root, where its uid cannot reach Python."""
    try:
        sandbox.LimitsLauncher()
    except sandbox.SandboxUnavailable:
        return True
    return False


@pytest.mark.parametrize("mode, named", [("limits", "own process group, killed when grading ends"),
                                         ("none", "separate process")])
def test_the_command_line_chooses_the_sandbox_and_its_memory_limit(tmp_path, mode, named):
    if mode == "limits" and fallback_refuses_here():
        pytest.skip("the fallback refuses to run student code as root here; see test_fallback.py")
    out = tmp_path / "out"
    assert main(["grade", str(SOLUTIONS), "--sandbox", mode, "--memory", "0.75", "--out", str(out)]) == 0
    [row] = json.loads((out / "summary.json").read_text())["submissions"]
    protections = " ".join(row["protections"])  # for the instructor; the student's feedback never lists them
    assert row["score"] == row["max_score"] and named in protections
    assert ("memory limit 0.75 GiB per process" in protections) == (mode != "none")
    assert "memory limit" not in (out / f"{row['name']}.json").read_text()


@pytest.mark.parametrize("arguments, sentence", [(["--memory", "0"], "argument --memory: must be positive, not 0"),
                                                 (["--sandbox", "chroot"], "invalid choice: 'chroot'")])
def test_bad_sandbox_options_are_refused_with_a_sentence(capsys, arguments, sentence):
    with pytest.raises(SystemExit) as exit_:
        main(["grade", str(SOLUTIONS), *arguments])
    assert exit_.value.code == 2 and sentence in capsys.readouterr().err


def test_an_unknown_mode_names_the_choices():
    with pytest.raises(ValueError, match="auto, bubblewrap, limits, none"):
        sandbox.launcher("chroot")


@pytest.mark.skipif(os.geteuid() != 0 or not sandbox.bubblewrap_works(), reason="needs root and bubblewrap")
def test_as_root_children_are_forked_in_a_kept_sandbox():
    launcher = sandbox.launcher()
    assert isinstance(launcher, sandbox.ForkedLauncher)
    assert launcher.protections == sandbox.BubblewrapLauncher().protections


# Every call of confine.REFUSED, made with arguments that no kernel accepts (-1: no
# such object, key or address), and an allowed one; run under confine.py.
PROBE_CALLS = """
import ctypes
import json
import os
import sys
import threading
import numpy
libc = ctypes.CDLL(None, use_errno=True)
errors = {}
for name, number in json.loads(sys.argv[1]).items():
    ctypes.set_errno(0)
    libc.syscall(number, -1, -1, -1, -1, -1, -1)
    errors[name] = ctypes.get_errno()
x86 = os.uname().machine == "x86_64"
# clone with a new user namespace and CLONE_FS, a pair no kernel accepts (EINVAL), and clone3.
ctypes.set_errno(0)
libc.syscall(56 if x86 else 220, 0x10000000 | 0x200, 0, 0, 0, 0)
errors["clone with a new namespace"] = ctypes.get_errno()
ctypes.set_errno(0)
libc.syscall(435, None, 0)
errors["clone3"] = ctypes.get_errno()
thread = threading.Thread(target=lambda: errors.update(thread=0))
thread.start()
thread.join()
child = os.fork()
if child == 0:
    os._exit(7)
print(json.dumps({"errors": errors, "pid": libc.syscall(39 if x86 else 172) == os.getpid(),
                  "fork": os.waitpid(child, 0)[1] >> 8, "numpy": float(numpy.ones(3).sum())}))
"""


@pytest.mark.skipif(os.uname().machine not in confine.ARCHITECTURES, reason="the filter knows x86_64 and aarch64")
@pytest.mark.parametrize("settings", [[], ["sockets=allow"]], ids=["child", "serving-over-sockets"])
def test_confine_refuses_the_calls_that_could_outlive_a_child(settings):
    column, _ = confine.ARCHITECTURES[os.uname().machine]
    numbers = {name: numbers[column] for name, numbers in {**confine.REFUSED, **confine.SOCKETS}.items()}
    if os.uname().machine == "x86_64":
        numbers["getpid through x32"] = 39 | confine.X32_BIT
    done = subprocess.run([sys.executable, "-I", "-S", str(CONFINE), *settings, "--", sys.executable, "-c",
                           PROBE_CALLS, json.dumps(numbers)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    probed = json.loads(done.stdout)
    errors = probed["errors"]
    assert errors.pop("clone with a new namespace") == errno.EPERM
    assert errors.pop("clone3") == errno.ENOSYS  # the C library then falls back to clone
    assert errors.pop("thread") == 0 and probed["fork"] == 7
    refused = {name for name, error in errors.items() if error == errno.EPERM}
    assert refused == set(numbers) - (set(confine.SOCKETS) if settings else set())
    assert probed["pid"] and probed["numpy"] == 3.0


@pytest.mark.skipif(os.geteuid() != 0, reason="only root hands out sandbox uids")
def test_graders_with_different_temporary_folders_never_share_a_uid(tmp_path):
    """A uid held by one grader is never handed to another, whatever TMPDIR each has:
    both would otherwise kill every process of that uid, the other's children too."""
    holder = subprocess.Popen(
        [sys.executable, "-c", "from autograder.sandbox.launchers import UIDS; print(UIDS.take(), flush=True); "
                               "import sys; sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env={**os.environ, "TMPDIR": str(tmp_path)})
    try:
        held = int(holder.stdout.readline())
        uid = sandbox.launchers.UIDS.take()
        sandbox.launchers.UIDS.give_back(uid)
        assert uid != held
    finally:
        holder.communicate("")


def test_sigterm_while_a_uid_is_being_taken_ends_the_grader():
    """The signal handler asks which uids the grader holds; it may run in the thread
    that holds the pool's lock (a worker taking a uid when its grader died, seen in a
    test run: it waited on that lock for ever, its sandbox alive)."""
    code = ("import os, signal, time\n"
            "from autograder import sandbox\n"
            "from autograder.sandbox.launchers import UIDS\n"
            "with sandbox.removed_on_signals():\n"
            "    with UIDS.lock:\n"
            "        os.kill(os.getpid(), signal.SIGTERM)\n"
            "        time.sleep(30)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=25)
    assert done.returncode == -signal.SIGTERM, done.stderr
