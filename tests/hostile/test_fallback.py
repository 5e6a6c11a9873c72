"""The fallback launcher (resource limits and a process group, for machines where
bubblewrap cannot run): time, memory and process limits, honest protections, and
never student code as root.

As root, the fallback runs only where its unprivileged uid can reach Python and
numpy; where it cannot (a Python under /root, as on the project's own machines),
the tests that grade with it are skipped and the refusal is tested instead. To run
them, use a Python every user can read, e.g.
``python3 -m venv /tmp/fallback-venv && /tmp/fallback-venv/bin/pip install numpy pytest``.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest

from autograder import sandbox
from autograder.cli import main
from autograder.sandbox import Limits, LimitsLauncher, SandboxUnavailable
from autograder.sandbox.launchers import CONFINE, UIDS, _kill_all_of, _remove_files_of, _uid_of

from .support import (
    SOLUTIONS,
    TIMEOUT,
    assert_honest_functions_kept_their_points,
    assert_hostile_function_earned_nothing,
    outputs_of,
    processes_with,
)
from .test_memory import GROWING_ARRAYS, ONE_HUGE_ARRAY
from .test_time import ENDLESS_LOOP

# At most 64 children even where nothing stops it: a real fork bomb outside a
# sandbox, run as root, would take the test machine down.
BOUNDED_FORK_BOMB = """
def zeros_init(fan_in, fan_out):
    import os
    children = 0
    try:
        while children < 64:
            if os.fork() == 0:
                os.execv("/bin/sleep", ["sleep", "MARKER"])
            children += 1
    except OSError as err:
        raise RuntimeError(f"fork failed after {children} children: {err}")
    raise RuntimeError(f"started all {children} children")
"""

LEFT_RUNNING = """
def he_init(fan_in, fan_out, rng=None):
    import subprocess
    if not STARTED:
        STARTED.append(True)
        subprocess.Popen(["sleep", "MARKER"])
        subprocess.Popen(["sh", "-c", "sleep MARKER"])
    if rng is None:
        rng = np.random.default_rng()
    return rng.standard_normal((fan_in, fan_out)) / np.sqrt(fan_in / 2)


STARTED = []
"""


@pytest.fixture
def fallback():
    """``fallback(limits=None)``: a LimitsLauncher, or a skip where it refuses to run here."""
    def make(limits=None):
        try:
            return LimitsLauncher(limits)
        except SandboxUnavailable as err:
            pytest.skip(f"the fallback refuses to run here ({err})")
    return make


def test_the_fallback_refuses_to_run_student_code_as_root():
    try:
        launcher = LimitsLauncher()
    except SandboxUnavailable as err:
        assert os.geteuid() == 0
        assert "would run student code as root" in str(err) and "--sandbox none" in str(err)
        with pytest.raises(SandboxUnavailable, match="--sandbox none"):
            sandbox.launcher("limits")
        if not sandbox.bubblewrap_works():
            with pytest.raises(SandboxUnavailable, match="--sandbox none"):
                sandbox.launcher("auto")
    else:
        assert launcher.drops_root == (os.geteuid() == 0)
        assert launcher.drops_root or "root" not in " ".join(launcher.protections)


def test_the_command_line_names_the_way_out_when_the_fallback_refuses(capsys):
    try:
        LimitsLauncher()
    except SandboxUnavailable:
        with pytest.raises(SystemExit) as exit_:
            main(["grade", str(SOLUTIONS), "--sandbox", "limits"])
        assert exit_.value.code == 2 and "--sandbox none to accept" in capsys.readouterr().err
    else:
        pytest.skip("the fallback can give up root here")


def test_the_fallback_stops_an_endless_loop(hostile, grade, reference_scores, fallback):
    result = grade(hostile("batchnorm_backward", ENDLESS_LOOP), launcher=fallback())
    assert_hostile_function_earned_nothing(result, "batchnorm_backward")
    assert f"batchnorm_backward did not return within {TIMEOUT:g} s" in outputs_of(result, "batchnorm_backward")
    assert_honest_functions_kept_their_points(result, reference_scores, ["batchnorm_backward"])


@pytest.mark.parametrize("source, limits, gib", [(ONE_HUGE_ARRAY, Limits(), "1.5"),
                                                 (GROWING_ARRAYS, Limits(memory_bytes=512 << 20), "0.5")],
                         ids=["one-huge-array", "growing-arrays"])
def test_the_fallback_caps_memory(hostile, grade, reference_scores, source, limits, gib, fallback):
    result = grade(hostile("batchnorm_backward_alt", source), launcher=fallback(limits), timeout=8)
    assert_hostile_function_earned_nothing(result, "batchnorm_backward_alt")
    assert f"exceeded the memory limit ({gib} GiB)" in outputs_of(result, "batchnorm_backward_alt")
    assert_honest_functions_kept_their_points(result, reference_scores, ["batchnorm_backward_alt"])


def test_the_fallback_kills_what_the_submission_left_running(hostile, grade, reference_scores, marker, fallback):
    result = grade(hostile("he_init", LEFT_RUNNING.replace("MARKER", marker)), launcher=fallback())
    assert processes_with(marker) == []
    assert_honest_functions_kept_their_points(result, reference_scores, [])


def test_the_fallback_sets_and_claims_a_process_limit_only_with_a_uid_of_its_own(fallback):
    # RLIMIT_NPROC does not bind root, and for another user it would count the grader's processes too.
    launcher = fallback()
    copy = sandbox.scratch.new_copy()
    command = launcher.command([sys.executable, "-I", "child.py", str(copy), "3"], copy)
    if _uid_of(command) is not None:
        UIDS.give_back(_uid_of(command))
    sets = any(item.startswith("nproc=") for item in command)
    claims = any("at most" in p and "processes" in p for p in launcher.protections)
    assert sets == claims == (_uid_of(command) is not None) == launcher.drops_root


def test_the_fallback_stops_a_fork_bomb_where_the_process_limit_binds(hostile, grade, reference_scores, marker,
                                                                     fallback):
    launcher = fallback()
    if not launcher.drops_root:
        pytest.skip("the grader is not root, so the fallback runs the child as the grader's own user and "
                    "sets no process limit; see the confine.py test below")
    result = grade(hostile("zeros_init", BOUNDED_FORK_BOMB.replace("MARKER", marker)), launcher=launcher)
    output = outputs_of(result, "zeros_init")
    assert "fork failed after" in output, output
    assert processes_with(marker) == []
    assert_honest_functions_kept_their_points(result, reference_scores, ["zeros_init"])


@pytest.mark.skipif(os.geteuid() != 0, reason="giving the child an unprivileged uid needs root")
def test_confine_gives_up_root_and_caps_the_processes_of_its_uid(marker):
    """What the fallback does when it can give up root, on a shell, which every uid can run."""
    uid = UIDS.take()
    script = f"id -u; n=0; while [ $n -lt 64 ]; do sleep {marker} >/dev/null 2>&1 & n=$((n+1)); done"
    try:
        done = subprocess.run([sys.executable, "-I", "-S", str(CONFINE), "nproc=8", f"uid={uid}", "--",
                               "/bin/sh", "-c", script], capture_output=True, text=True, timeout=20)
        started = len(processes_with(marker, wait=0))
    finally:
        if _kill_all_of(uid):
            UIDS.give_back(uid)
    assert done.stdout.split() == [str(uid)], done.stderr
    assert "fork" in done.stderr.lower() or "resource temporarily unavailable" in done.stderr.lower()
    assert 0 < started < 8


@pytest.fixture
def setuid_id(tmp_path_factory):
    """A setuid-root copy of ``id`` (what su or passwd are), in a folder only ``uid``'s group may enter."""
    uid = UIDS.take()
    folder = Path(tempfile.mkdtemp())
    try:
        shutil.copy("/usr/bin/id", folder / "id")
        os.chmod(folder / "id", 0o4755)
        os.chown(folder, 0, uid)
        os.chmod(folder, 0o750)
        yield uid, folder / "id"
    finally:
        shutil.rmtree(folder)
        if _kill_all_of(uid):
            UIDS.give_back(uid)


@pytest.mark.skipif(os.geteuid() != 0, reason="giving the child an unprivileged uid needs root")
def test_confine_sets_no_new_privs_so_a_setuid_program_gains_nothing(setuid_id):
    uid, program = setuid_id
    done = subprocess.run([sys.executable, "-I", "-S", str(CONFINE), f"uid={uid}", "--", str(program), "-u"],
                          capture_output=True, text=True, timeout=20)
    assert done.stdout.split() == [str(uid)], done  # without no_new_privs: 0


@pytest.mark.skipif(os.geteuid() != 0, reason="changing uids needs root")
def test_processes_are_found_by_their_real_uid_too(marker):
    """A process whose real uid is the sandbox's but whose effective uid is root
    (what a setuid program makes without no_new_privs) is killed with the rest."""
    uid = UIDS.take()
    try:
        sleeper = subprocess.Popen(["sleep", marker], preexec_fn=lambda: os.setresuid(uid, 0, 0))
        threading.Thread(target=sleeper.wait, daemon=True).start()  # reaps it once killed
        assert len(processes_with(marker, wait=0)) == 1
        assert _kill_all_of(uid)
        assert processes_with(marker) == []
    finally:
        if _kill_all_of(uid):
            UIDS.give_back(uid)


@pytest.mark.skipif(os.geteuid() != 0, reason="giving the child an unprivileged uid needs root")
def test_what_a_uid_left_in_shared_folders_is_removed(marker):
    """Files, folders and links of the uid in /tmp, /var/tmp and /dev/shm go; a
    link's target and everything of other users stay."""
    uid = UIDS.take()
    keep = Path(tempfile.mkdtemp()) / "keep"
    keep.write_text("root's")
    os.chmod(keep.parent, 0o777)
    script = (f"mkdir /tmp/{marker}; dd if=/dev/zero of=/tmp/{marker}/big bs=1M count=3 2>/dev/null; "
              f"mkdir -p /var/tmp/{marker}/a/b; echo x > /var/tmp/{marker}/a/b/c; echo x > /dev/shm/{marker}; "
              f"ln -s {keep} /tmp/{marker}-link; echo x > {keep.parent}/{marker}")
    try:
        subprocess.run([sys.executable, "-I", "-S", str(CONFINE), f"uid={uid}", "--", "/bin/sh", "-c", script],
                       check=True, timeout=20)
        left = [f"/tmp/{marker}", f"/var/tmp/{marker}", f"/dev/shm/{marker}", f"/tmp/{marker}-link",
                f"{keep.parent}/{marker}"]
        assert all(os.path.lexists(p) for p in left)  # the control: nothing removes them by itself
        _remove_files_of(uid)
        assert [p for p in left if os.path.lexists(p)] == []
        assert keep.read_text() == "root's"
    finally:
        shutil.rmtree(keep.parent)
        if _kill_all_of(uid):
            UIDS.give_back(uid)


LEAVE_FILES = """
def he_init(fan_in, fan_out, rng=None):
    import os
    for folder in ("/tmp", "/var/tmp", "/dev/shm"):
        try:
            with open(os.path.join(folder, "MARKER"), "wb") as junk:
                junk.write(bytes(1 << 20))
        except OSError:
            pass
    if rng is None:
        rng = np.random.default_rng()
    return rng.standard_normal((fan_in, fan_out)) / np.sqrt(fan_in / 2)
"""


def test_the_fallback_removes_what_the_submission_left_in_shared_folders(hostile, grade, reference_scores, marker,
                                                                         fallback):
    launcher = fallback()
    if not launcher.drops_root:
        pytest.skip("the grader is not root: the child's files are the grader's user's")
    result = grade(hostile("he_init", LEAVE_FILES.replace("MARKER", marker)), launcher=launcher)
    assert [f for f in ("/tmp", "/var/tmp", "/dev/shm") if os.path.lexists(os.path.join(f, marker))] == []
    assert_honest_functions_kept_their_points(result, reference_scores, [])
