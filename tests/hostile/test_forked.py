"""The kept sandbox (ForkedLauncher, the default as root): one sandbox serves one
submission after another, so nothing of a child may reach the next one, and no
child may harm the fork server that starts them."""
import os

import pytest

from autograder import sandbox
from autograder.grade import grade_submission

from .support import SOLUTIONS, TIMEOUT, build_submission, close_kept_sandboxes, kept_sandboxes, outputs_of

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the forked sandbox needs a grader that is root")

# Leaves files in /tmp (one in a folder it then locks), a daemon and a monkeypatched numpy.
LEAVE_TRACES = """
def zero_centered(X):
    import os
    import subprocess
    with open("/tmp/left-MARKER", "w") as f:
        f.write("secret")
    os.makedirs("/tmp/deep-MARKER/inner")
    with open("/tmp/deep-MARKER/inner/file", "w") as f:
        f.write("secret")
    os.chmod("/tmp/deep-MARKER/inner", 0)
    os.chmod("/tmp/deep-MARKER", 0)
    subprocess.Popen(["sleep", "MARKER"], start_new_session=True, stdin=subprocess.DEVNULL,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    np.mean = lambda *args, **kwargs: 0.0
    os.environ["LEFT"] = "MARKER"
    return X - X.mean(axis=0)
"""

# The reference, unless it finds a trace of an earlier child. (/tmp may hold root's
# folders leading to a venv that lives under the host's /tmp: the sandbox's own.)
LOOK_FOR_TRACES = """
def zero_centered(X):
    import os
    traces = [name for name in os.listdir("/tmp") if os.lstat(f"/tmp/{name}").st_uid != 0]
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if b"MARKER" in f.read():
                    traces.append(f"process {pid}")
        except OSError:
            pass
    if os.environ.get("LEFT"):
        traces.append("environment")
    if np.mean(np.ones(3)) != 1.0:
        traces.append("numpy")
    if traces:
        raise RuntimeError(f"traces of an earlier child: {traces}")
    return X - X.mean(axis=0)
"""

KILL_AND_TRACE_EVERYTHING = """
def zero_centered(X):
    import ctypes
    import os
    import signal
    refused = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        if int(pid) != os.getpid():
            try:
                os.kill(int(pid), signal.SIGKILL)
            except OSError:
                refused += 1
            if ctypes.CDLL(None).ptrace(16, int(pid), 0, 0) != -1:  # PTRACE_ATTACH
                raise RuntimeError(f"attached to {pid}")
    raise RuntimeError(f"{refused} processes refused")
"""


@pytest.fixture
def forked():
    return sandbox.ForkedLauncher()


def grade(folder, launcher):
    return grade_submission(folder, launcher=launcher, timeout=TIMEOUT)


def zero_centered_points(result):
    return [o.score for o in result.outcomes if o.check.tags == ("zero_centered",)]


def test_nothing_of_a_child_reaches_the_next_one_in_the_same_sandbox(tmp_path, forked, marker):
    leaver = build_submission(tmp_path / "leaver", "zero_centered", LEAVE_TRACES.replace("MARKER", marker))
    looker = build_submission(tmp_path / "looker", "zero_centered", LOOK_FOR_TRACES.replace("MARKER", marker))
    grade(SOLUTIONS, forked)
    kept = kept_sandboxes()
    assert grade(leaver, forked).score > 0
    result = grade(looker, forked)
    assert kept_sandboxes() == kept, "the two submissions were not graded in the same sandbox"
    assert zero_centered_points(result) and all(zero_centered_points(result)), outputs_of(result, "zero_centered")


def test_a_child_cannot_kill_or_trace_the_fork_server(tmp_path, forked):
    attacker = build_submission(tmp_path / "attacker", "zero_centered", KILL_AND_TRACE_EVERYTHING)
    grade(SOLUTIONS, forked)
    kept = kept_sandboxes()
    output = outputs_of(grade(attacker, forked), "zero_centered")
    assert "processes refused" in output and "attached" not in output, output
    after = grade(SOLUTIONS, forked)
    assert kept_sandboxes() == kept, "the fork server did not survive"
    assert after.score == after.max_score


def test_a_prepared_sandbox_serves_the_next_submission():
    launcher = sandbox.ForkedLauncher()
    launcher.prepare()
    waiting = kept_sandboxes()
    assert waiting, "prepare() left no sandbox waiting"
    result = grade(SOLUTIONS, launcher)
    assert result.score == result.max_score
    assert kept_sandboxes()[-1] in waiting


def test_a_sandbox_that_cannot_start_costs_the_submission_with_a_reason(tmp_path):
    broken = sandbox.ForkedLauncher(bwrap="/bin/false")
    close_kept_sandboxes()  # so that the broken launcher must start a sandbox of its own
    result = grade(SOLUTIONS, broken)
    assert result.score == 0 and result.status == "grader failed"
    assert "fork server did not start" in result.error, result.error
    assert "nothing was graded" in result.outcomes[0].output
