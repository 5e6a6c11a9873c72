"""Scratch copies: each submission's copy is readable by its own child's uid
alone, and none outlives the grader, whether it ends, is stopped by SIGTERM or
SIGINT, or is killed outright (the next grader removes the copy)."""
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from autograder.classroom import grade_class
from autograder.sandbox import LimitsLauncher, SandboxUnavailable, scratch
from autograder.sandbox.launchers import CONFINE, UIDS

from .support import (
    ROOT,
    SOLUTIONS,
    assert_hostile_function_earned_nothing,
    build_submission,
    outputs_of,
    processes_with,
)

as_root = pytest.mark.skipif(os.geteuid() != 0, reason="sandbox uids are given out only by a root grader")

# Waits up to 6 s for another submission's child, finds its scratch copy in its
# command line (/proc is readable by all without namespaces), and uses the
# batchnorm_forward found there if it can read it.
STEAL_FROM_A_CLASSMATE = """
def batchnorm_forward(x, gamma, beta, bn_param):
    import importlib.util
    import os
    import time

    def copies_of_others():
        mine = os.path.dirname(os.path.realpath(__file__))
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                argv = open(f"/proc/{pid}/cmdline", "rb").read().decode().split("\\0")
            except OSError:
                continue
            for i, arg in enumerate(argv[:-1]):
                if arg.endswith("child.py") and "autograder-scratch-" in argv[i + 1] \
                        and os.path.realpath(argv[i + 1]) != mine:
                    yield argv[i + 1]

    if not TRIED:
        deadline = time.monotonic() + 6
        while time.monotonic() < deadline and not TRIED:
            for copy in copies_of_others():
                try:
                    open(os.path.join(copy, "batchnorm.py")).read()
                    TRIED.append(("stolen", copy))
                except OSError as err:
                    TRIED.append((type(err).__name__, copy))
                break
            time.sleep(0.02)
    if TRIED and TRIED[0][0] == "stolen":
        spec = importlib.util.spec_from_file_location("stolen", os.path.join(TRIED[0][1], "batchnorm.py"))
        stolen = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(stolen)
        return stolen.batchnorm_forward(x, gamma, beta, bn_param)
    raise RuntimeError(f"could not read a classmate's copy: {TRIED or 'none seen'}")


TRIED = []
"""

# An honest submission whose child stays alive a while, so that the thief can find it.
SLOW_BUT_HONEST = """
def zero_centered(X):
    import time
    if not SLEPT:
        SLEPT.append(time.sleep(2.5))
    return X - X.mean(axis=0)


SLEPT = []
"""


@as_root
def test_a_scratch_copy_is_readable_by_its_own_uid_only(marker):
    """Two copies handed to two uids; a shell running as the first reads its own
    copy and neither the other one nor the list of copies."""
    copies, uids = [scratch.new_copy(), scratch.new_copy()], [UIDS.take(), UIDS.take()]
    try:
        for copy, uid in zip(copies, uids):
            (copy / "batchnorm.py").write_text(f"# {copy.name}\n")
            scratch.hand_over(copy, uid)
        mine, other = (copy / "batchnorm.py" for copy in copies)
        script = f"cat {mine}; cat {other} || echo other refused; ls {scratch.run_folder()} || echo list refused"
        done = subprocess.run([sys.executable, "-I", "-S", str(CONFINE), f"uid={uids[0]}", "--", "/bin/sh", "-c",
                               script], capture_output=True, text=True, timeout=20)
    finally:
        for uid in uids:
            UIDS.give_back(uid)
    assert done.stdout.split("\n")[:3] == [f"# {copies[0].name}", "other refused", "list refused"], done
    assert {oct(c.stat().st_mode & 0o777) for c in copies} == {"0o550"}
    assert oct(scratch.run_folder().stat().st_mode & 0o777) == "0o711"


@as_root
def test_in_a_class_a_fallback_child_cannot_read_a_classmates_copy(tmp_path):
    try:
        launcher = LimitsLauncher()
    except SandboxUnavailable as err:
        pytest.skip(f"the fallback refuses to run here ({err})")
    thief = build_submission(tmp_path / "thief", "batchnorm_forward", STEAL_FROM_A_CLASSMATE)
    honest = build_submission(tmp_path / "honest", "zero_centered", SLOW_BUT_HONEST)
    thief_result, honest_result = grade_class([thief, honest], jobs=2, progress=False, launcher=launcher, timeout=8)
    output = outputs_of(thief_result, "batchnorm_forward")
    assert "could not read a classmate's copy: [('PermissionError'" in output, output
    assert_hostile_function_earned_nothing(thief_result, "batchnorm_forward")
    assert honest_result.score == honest_result.max_score


def scratch_folders_of(pid):
    return list(Path(tempfile.gettempdir()).glob(f"{scratch.PREFIX}{pid}-*"))


def start_a_grader(tmp_path, marker):
    """A grader busy with a submission that sleeps; returns it once its copy exists."""
    sleeper = build_submission(tmp_path / "sleeper", "zeros_init", "def zeros_init(fan_in, fan_out):\n"
                               f"    import subprocess\n    subprocess.run(['sleep', '{marker}'])\n")
    grader = subprocess.Popen([sys.executable, "-m", "autograder", "grade", str(sleeper), "--timeout", "60",
                               "--sandbox", "bubblewrap"], cwd=ROOT, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    deadline = time.monotonic() + 30
    while not processes_with(marker, wait=0) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert processes_with(marker, wait=0), grader.stderr.read() if grader.poll() is not None else "no child"
    return grader


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stopped_grader_leaves_no_copy_and_no_process(tmp_path, marker, bubblewrap, number):
    grader = start_a_grader(tmp_path, marker)
    assert [list(f.iterdir()) for f in scratch_folders_of(grader.pid)] != [[]]  # the copy is there
    grader.send_signal(number)
    try:
        assert grader.wait(timeout=20) == -number  # ended as the signal would have ended it
    finally:
        grader.kill()
    assert scratch_folders_of(grader.pid) == []
    assert processes_with(marker) == []


def test_a_killed_graders_copies_are_removed_by_the_next_grader(tmp_path, marker, bubblewrap):
    grader = start_a_grader(tmp_path, marker)
    grader.kill()  # SIGKILL: no handler runs, so the copies stay (the control) ...
    grader.wait(timeout=20)
    assert len(scratch_folders_of(grader.pid)) == 1
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", str(SOLUTIONS), "--sandbox", "bubblewrap"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert done.returncode == 0, done.stderr
    assert scratch_folders_of(grader.pid) == []  # ... until the next grader starts
    assert processes_with(marker) == []


def test_a_graders_copies_go_when_it_ends():
    done = subprocess.run([sys.executable, "-c", "from autograder.grade import grade_submission; import os; "
                           f"grade_submission({str(SOLUTIONS)!r}); print(os.getpid())"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert done.returncode == 0, done.stderr
    assert scratch_folders_of(int(done.stdout.split()[-1])) == []
