"""Attacks on the kept sandbox (ForkedLauncher), written by a second engineer: a
hostile submission graded first, then another in the SAME sandbox, which must be
graded as if it were alone. Each test states the protection it expects; the one
the kept sandbox does not give (docs/sandbox.md says so) is marked
xfail(strict=True) with what breaks, so that a fix must also take the mark off."""
import ctypes
import errno
import os

import pytest

from autograder import sandbox
from autograder.grade import grade_submission

from .support import (
    SOLUTIONS,
    build_submission,
    close_kept_sandboxes,
    finishes_within,
    first_output_of,
    kept_sandboxes,
    outputs_of,
)

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the forked sandbox needs a grader that is root")

MiB = 1 << 20
LEAK_MIB = 128


@pytest.fixture
def forked():
    """A launcher whose sandboxes are all new, and closed after the test (what a
    test leaves in a sandbox's IPC namespace goes with it)."""
    close_kept_sandboxes()
    yield sandbox.ForkedLauncher()
    close_kept_sandboxes()


def grade(folder, launcher, timeout=1.5):
    return grade_submission(folder, launcher=launcher, timeout=timeout)


def attack_then_victim(tmp_path, launcher, attack, victim=SOLUTIONS, function="zero_centered", timeout=1.5):
    """Grade the attacker, then ``victim`` in the same sandbox; (attacker's result, victim's result)."""
    attacker = build_submission(tmp_path / "attacker", function, attack)
    grade(SOLUTIONS, launcher)  # starts the sandbox
    kept = kept_sandboxes()
    first = grade(attacker, launcher, timeout)
    second = grade(victim, launcher)
    assert kept_sandboxes() == kept, "the attacker and the victim were not graded in the same sandbox"
    return first, second


def host_shmem():
    """Bytes of shared memory (SysV, POSIX, tmpfs) on the whole machine."""
    with open("/proc/meminfo") as meminfo:
        return next(int(line.split()[1]) * 1024 for line in meminfo if line.startswith("Shmem:"))


# 1. State that survives the child: SysV shared memory. A segment outlives its
# creator until IPC_RMID, in the sandbox's IPC namespace, which the kept sandbox
# keeps for every child it serves. The pages count against the machine's memory
# (not against the child's RLIMIT_AS once detached), so a child could pin LEAK_MIB
# per call (up to shmmni = 4096 segments) for the whole grading run, and the next
# submissions would run out of memory. The system-call filter refuses shmget
# (test_memory.py: the same during one call).
PIN_SYSV_MEMORY = f"""
def zero_centered(X):
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    libc.shmat.restype = ctypes.c_void_p
    libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
    libc.shmdt.argtypes = [ctypes.c_void_p]
    size = {LEAK_MIB} << 20
    segment = libc.shmget(0, ctypes.c_size_t(size), 0o1600)  # IPC_PRIVATE, IPC_CREAT | 0600
    address = libc.shmat(segment, None, 0)
    ctypes.memset(address, 1, size)  # the pages are now the machine's, not this process's
    libc.shmdt(ctypes.c_void_p(address))
    return X - X.mean(axis=0)
"""


def test_memory_a_child_pins_in_sysv_shared_memory_is_freed_when_it_ends(tmp_path, forked):
    attacker = build_submission(tmp_path / "attacker", "zero_centered", PIN_SYSV_MEMORY)
    grade(SOLUTIONS, forked)
    before = host_shmem()
    grade(attacker, forked)
    victim = grade(SOLUTIONS, forked)
    pinned = host_shmem() - before
    assert victim.score == victim.max_score
    assert pinned < LEAK_MIB * MiB // 4, f"{pinned // MiB} MiB of SysV shared memory outlived the child"


# 2. The grader must not misreport a later child's death. The server reports each
# child's return code by pid, and pids in the sandbox's PID namespace wrap (at its
# pid_max: 4194304 in a new namespace on Linux 6.14+, the host's, often 32768,
# before): a return code kept for a pid would be taken for that of a later child
# forked at the same pid (before the fix, the grader kept them all). An attacker
# makes it happen to the very next submission: it dies once, so that a fresh child
# of its own is forked at 501, above the pids the kernel skips after a wrap (300),
# then starts threads (each takes a pid) until the counter wraps round to 500; the
# next child forked gets 501. Honest runs wrap too, after pid_max children and
# threads in one sandbox. Here the victim's code calls os._exit(3): its feedback
# must say "exit status 3", not what ended the attacker's child 501 ("used more
# than 300 s of CPU time", its SIGXCPU; 7 minutes to go round).
# Slow: AUTOGRADER_SLOW_ATTACKS=1; the quick test below plants the stale codes.
WRAP_PIDS = """
def zero_centered(X):
    import os
    import threading
    me = os.getpid()

    def next_pid():
        pids = []
        thread = threading.Thread(target=lambda: pids.append(threading.get_native_id()))
        try:
            thread.start()
        except RuntimeError:  # the process limit counts threads still being reaped
            return -1
        thread.join()
        return pids[0]

    if me < 400:  # take pids up to 500 and die: the next child of this submission is forked at 501
        while next_pid() < 500:
            pass
        os._exit(0)
    # Each child of this submission (the CPU limit ends one every 300 s) takes pids
    # until the counter has gone round to 500, and stays: the next child forked,
    # the victim's, gets 501, whose return code the grader already holds.
    if not os.path.exists("/tmp/landed"):
        while not 0 < next_pid() < 501:
            pass
        while next_pid() < 500:
            pass
        open("/tmp/landed", "w").close()
    return X - X.mean(axis=0)
"""

EXITS = """
def zero_centered(X):
    import os
    os._exit(3)
"""


@pytest.mark.skipif(not os.environ.get("AUTOGRADER_SLOW_ATTACKS"), reason="set AUTOGRADER_SLOW_ATTACKS=1 (minutes)")
def test_a_child_forked_at_a_reused_pid_reports_its_own_exit(tmp_path, forked):
    exiting = build_submission(tmp_path / "victim", "zero_centered", EXITS)
    alone = first_output_of(grade(exiting, forked), "zero_centered")
    assert "exit status 3" in alone, alone
    attacker = build_submission(tmp_path / "attacker", "zero_centered", WRAP_PIDS)
    kept = kept_sandboxes()
    grade_submission(attacker, launcher=forked, timeout=600, budget=1200)
    victim = grade(exiting, forked)
    assert kept_sandboxes() == kept, "the attacker and the victim were not graded in the same sandbox"
    output = first_output_of(victim, "zero_centered")
    assert "exit status 3" in output, output


def test_an_exit_kept_for_a_pid_is_not_taken_for_a_later_child_at_that_pid(tmp_path, forked):
    """The quick form of the test above: every pid the sandbox may hand out next
    already has an earlier child's exit (a SIGXCPU) on record."""
    exiting = build_submission(tmp_path / "victim", "zero_centered", EXITS)
    grade(SOLUTIONS, forked)
    (server,) = sandbox.ForkedLauncher._idle
    server.exits.update(dict.fromkeys(range(2, 1 << 16), -24))
    output = first_output_of(grade(exiting, forked), "zero_centered")
    assert "exit status 3" in output, output


# 3. What the grader removes from /tmp: shutil.rmtree (Python 3.11; 3.13 made it
# iterative) recurses once per level, so a tree deeper than the recursion limit
# raises RecursionError, not OSError. Before, it escaped ForkedLauncher.stop: the
# attacker's result said "grader failed", its uid never went back to the pool, and
# its sandbox ran until the grader ended. Now such a sandbox is closed, the uid
# goes back, and the submission is graded as any other.
DEEP_TREE = """
def zero_centered(X):
    import os
    if not os.path.exists("/tmp/d"):
        for _ in range(3000):
            os.mkdir("d")
            os.chdir("d")
        os.chdir("/tmp")
    return X - X.mean(axis=0)
"""


def test_a_deep_tree_left_in_tmp_is_removed_and_costs_nobody_else(tmp_path, forked):
    attacker = build_submission(tmp_path / "attacker", "zero_centered", DEEP_TREE)
    grade(SOLUTIONS, forked)
    held = set(sandbox.launchers.UIDS.in_use())
    result = grade(attacker, forked)
    assert result.status == "graded", (result.status, result.error)
    assert result.score == result.max_score, [o.output for o in result.outcomes if not o.passed]
    assert set(sandbox.launchers.UIDS.in_use()) == held, "a uid never went back to the pool"
    victim = grade(SOLUTIONS, forked)
    assert victim.score == victim.max_score


# 4. A channel between submissions of the same uid (the pool hands the next
# child the lowest free uid, usually the one just given back): a POSIX or a SysV
# message queue left by one child would be open to the next, even with mode 0600,
# and a full queue pins kernel memory like test 1. The system-call filter refuses both.
LEAVE_MESSAGE = """
def zero_centered(X):
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    queue = libc.mq_open(b"/left", 0o102, 0o600, None)  # O_CREAT | O_RDWR
    libc.mq_send(queue, b"from an earlier child", 21, 0)
    key = libc.msgget(0x5eed, 0o1600)
    message = ctypes.create_string_buffer(b"\\1\\0\\0\\0\\0\\0\\0\\0from an earlier child")
    libc.msgsnd(key, message, 21, 0)
    return X - X.mean(axis=0)
"""

READ_MESSAGE = """
def zero_centered(X):
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    found = []
    queue = libc.mq_open(b"/left", 0o2, 0, None)  # O_RDWR
    buffer = ctypes.create_string_buffer(1 << 14)
    if queue >= 0 and libc.mq_receive(queue, buffer, 1 << 14, None) > 0:
        found.append(("mqueue", buffer.value))
    key = libc.msgget(0x5eed, 0o600)
    if key >= 0 and libc.msgrcv(key, buffer, 1 << 13, 0, 0o4000) > 0:  # IPC_NOWAIT
        found.append(("msg", buffer.raw[8:29]))
    if found:
        raise RuntimeError(f"left by an earlier child: {found}")
    return X - X.mean(axis=0)
"""


def test_a_message_queue_left_by_a_child_is_gone_for_the_next(tmp_path, forked):
    reader = build_submission(tmp_path / "reader", "zero_centered", READ_MESSAGE)
    _, result = attack_then_victim(tmp_path, forked, LEAVE_MESSAGE, victim=reader)
    assert result.score == result.max_score, outputs_of(result, "zero_centered")


# 5. The same channel through the kernel's keyrings, which no namespace here
# isolates: the user keyring of a uid lives in the (host's) user namespace until
# the uid's last key goes, across sandboxes and launchers. Collusion only; before,
# an xfail. The system-call filter refuses add_key, request_key and keyctl.
LEAVE_KEY = """
def zero_centered(X):
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall(248, b"user", b"left", b"from an earlier child", 21, -4)  # add_key(..., KEY_SPEC_USER_KEYRING)
    return X - X.mean(axis=0)
"""

READ_KEY = """
def zero_centered(X):
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    key = libc.syscall(250, 10, -4, b"user", b"left", 0)  # keyctl(KEYCTL_SEARCH, KEY_SPEC_USER_KEYRING, ...)
    if key >= 0:
        buffer = ctypes.create_string_buffer(64)
        libc.syscall(250, 11, key, buffer, 64)  # KEYCTL_READ
        raise RuntimeError(f"left by an earlier child: {buffer.value}")
    return X - X.mean(axis=0)
"""


@pytest.fixture
def forget_keys():
    """Clear the user keyrings of the pool's first uids afterwards (they outlive
    the test otherwise: that is the finding)."""
    yield
    for uid in range(sandbox.launchers.UIDS.first, sandbox.launchers.UIDS.first + 16):
        pid = os.fork()
        if pid == 0:
            try:
                os.setresuid(uid, uid, uid)
                ctypes.CDLL(None).syscall(250, 7, -4)  # keyctl(KEYCTL_CLEAR, KEY_SPEC_USER_KEYRING)
            finally:
                os._exit(0)
        os.waitpid(pid, 0)


def test_a_key_left_by_a_child_is_gone_for_the_next(tmp_path, forked, forget_keys):
    reader = build_submission(tmp_path / "reader", "zero_centered", READ_KEY)
    _, result = attack_then_victim(tmp_path, forked, LEAVE_KEY, victim=reader)
    assert result.score == result.max_score, outputs_of(result, "zero_centered")


# 6. The fork server's memory: a child is a copy of the server, heap included,
# and the server received every earlier request there (a submission's scratch
# folder name and settings). A child that scans its own memory finds the
# folders of the submissions graded before it: names only (their copies are
# removed when their grading ends, and a copy is readable by its own uid alone),
# so this is a leak of little use; the server could receive into one reused
# buffer (socket.recvmsg_into) and so keep no earlier request.
SCAN_HEAP = """
def zero_centered(X):
    import ctypes
    import os
    import re
    mine = open("/proc/self/cmdline", "rb").read().split(b"\\0")[1]
    found = set()
    with open("/proc/self/maps") as maps:
        for line in maps:
            fields = line.split()
            if fields[1].startswith("rw") and len(fields) < 6 or fields[-1] == "[heap]":
                start, end = (int(x, 16) for x in fields[0].split("-"))
                if end - start < 256 << 20:
                    found.update(re.findall(rb"/submissions/submission-\\w{8}", ctypes.string_at(start, end - start)))
    found.discard(mine)
    if found:
        raise RuntimeError(f"another submission's folder in the server's memory: {sorted(found)}")
    return X - X.mean(axis=0)
"""


@pytest.mark.xfail(strict=True, reason="the fork server's heap keeps the requests it received")
def test_the_server_memory_holds_no_other_submission(tmp_path, forked):
    attacker = build_submission(tmp_path / "attacker", "zero_centered", SCAN_HEAP)
    grade(SOLUTIONS, forked)
    grade(SOLUTIONS, forked)
    result = grade(attacker, forked)
    output = first_output_of(result, "zero_centered")
    assert result.outcomes and "another submission" not in output, output


# 7. What the child inherits of its launch: its pid and parent pid are those of a
# sandbox where other children ran before (pids count up), which tells it how
# many children (and threads) the sandbox served before it; no content. Only the
# protections that matter are asserted: the child is alone and not root.
ALONE = """
def zero_centered(X):
    import os
    others = [p for p in os.listdir("/proc") if p.isdigit() and int(p) not in (1, 2, os.getpid())]
    if others or 0 in os.getresuid() or 0 in os.getresgid() or os.getgroups():
        raise RuntimeError(f"not alone, or root: {others} {os.getresuid()} {os.getgroups()}")
    if not globals().get("walked"):  # once per child: the whole disk takes a while under load
        writable = [root for root, dirs, _ in os.walk("/") if not root.startswith(("/proc", "/sys"))
                    and os.access(root, os.W_OK)]
        if writable != ["/tmp"]:  # cleaned after it
            raise RuntimeError(f"writable: {writable}")
        globals()["walked"] = True
    return X - X.mean(axis=0)
"""


def test_a_child_is_alone_not_root_and_writes_only_tmp(tmp_path, forked):
    _, result = attack_then_victim(tmp_path, forked, ALONE, victim=build_submission(tmp_path / "probe",
                                                                                  "zero_centered", ALONE))
    assert result.score == result.max_score, outputs_of(result, "zero_centered")


# 8. What the cleanup between children opens. Before, the grader removed a child's
# /tmp from outside, as root, through /proc/PID/root with shutil.rmtree, which opens
# each top-level entry: a FIFO left there blocked it for ever, between two children.
LEAVE_FIFOS = """
def zero_centered(X):
    import os
    if not os.path.exists("/tmp/fifo"):
        os.mkfifo("/tmp/fifo")
        os.makedirs("/tmp/folder/inner")
        os.mkfifo("/tmp/folder/inner/fifo")
        os.chmod("/tmp/folder", 0)
    return X - X.mean(axis=0)
"""

# The reference, unless /tmp holds something of an earlier child.
LOOK_IN_TMP = """
def zero_centered(X):
    import os
    left = [name for name in os.listdir("/tmp") if os.lstat(f"/tmp/{name}").st_uid != 0]
    if left:
        raise RuntimeError(f"left in /tmp by an earlier child: {left}")
    return X - X.mean(axis=0)
"""


def test_fifos_left_in_tmp_are_removed_without_blocking_the_grader(tmp_path, forked):
    looker = build_submission(tmp_path / "looker", "zero_centered", LOOK_IN_TMP)
    first, second = finishes_within(60, attack_then_victim, tmp_path, forked, LEAVE_FIFOS, victim=looker)
    assert first.score == first.max_score and second.score == second.max_score, outputs_of(second, "zero_centered")


# ... and a link there was followed from the grader's side: a link to a path of the
# grader's machine made the root grader open that path (here a FIFO of the test's,
# on which it would have blocked).
LEAVE_A_LINK = """
def zero_centered(X):
    import os
    if not os.path.lexists("/tmp/host"):
        os.symlink("HOST_PATH", "/tmp/host")
        os.makedirs("/tmp/folder")
        os.symlink("HOST_PATH", "/tmp/folder/host")
    return X - X.mean(axis=0)
"""


def test_a_link_left_in_tmp_never_makes_the_grader_open_the_path_it_names(tmp_path, forked):
    host_fifo = tmp_path / "host-fifo"
    os.mkfifo(host_fifo)
    looker = build_submission(tmp_path / "looker", "zero_centered", LOOK_IN_TMP)
    try:
        _, second = finishes_within(60, attack_then_victim, tmp_path, forked,
                                    LEAVE_A_LINK.replace("HOST_PATH", str(host_fifo)), victim=looker)
    finally:
        try:  # succeeds only while someone holds the FIFO open for reading (and unblocks them)
            os.close(os.open(host_fifo, os.O_WRONLY | os.O_NONBLOCK))
            opened = True
        except OSError as err:
            opened = err.errno != errno.ENXIO
    assert not opened, "the grader opened the host path that a link in the sandbox's /tmp named"
    assert host_fifo.exists()
    assert second.score == second.max_score, outputs_of(second, "zero_centered")


# 9. A /tmp filled to its cap of files, with a tree deeper than any recursion and a
# folder made unreadable: removed inside the sandbox within the submission's time
# (the next child, in the same sandbox, finds /tmp empty).
FILL_TMP = """
def zero_centered(X):
    import os
    if not os.path.exists("/tmp/deep"):
        os.makedirs("/tmp/deep")
        os.chdir("/tmp/deep")
        for _ in range(2000):
            os.mkdir("d")
            os.chdir("d")
        os.chdir("/tmp")
        try:
            for i in range(1 << 20):
                os.close(os.open(f"/tmp/f{i}", os.O_CREAT | os.O_WRONLY, 0o600))
        except OSError:
            pass
        os.chmod("/tmp/deep", 0)
    return X - X.mean(axis=0)
"""


def test_a_tmp_filled_to_its_cap_is_emptied_for_the_next_child(tmp_path, forked):
    looker = build_submission(tmp_path / "looker", "zero_centered", LOOK_IN_TMP)
    first, second = finishes_within(60, attack_then_victim, tmp_path, forked, FILL_TMP, victim=looker)
    assert first.score == first.max_score, outputs_of(first, "zero_centered")
    assert second.score == second.max_score, outputs_of(second, "zero_centered")


# 10. Sockets kept alive after their owner died: sent "in flight" over a socket pair
# that is itself in flight, listeners bound in the sandbox's network namespace (an
# abstract Unix name, a loopback port) were still reachable by the next child.
LEAVE_SOCKETS = """
def zero_centered(X):
    import socket
    if not LEFT:
        LEFT.append(True)
        unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        unix.bind("\\0left-by-an-earlier-child")
        unix.listen()
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        tcp.bind(("127.0.0.1", 5555))
        tcp.listen()
        a, b = socket.socketpair()
        socket.send_fds(a, [b"x"], [unix.fileno(), tcp.fileno(), a.fileno(), b.fileno()])
    return X - X.mean(axis=0)


LEFT = []
"""

REACH_SOCKETS = """
def zero_centered(X):
    import socket
    reached = []
    for family, address in ((socket.AF_UNIX, "\\0left-by-an-earlier-child"), (socket.AF_INET, ("127.0.0.1", 5555))):
        try:
            with socket.socket(family, socket.SOCK_STREAM) as probe:
                probe.connect(address)
            reached.append(address)
        except OSError:
            pass
    if reached:
        raise RuntimeError(f"reached sockets of an earlier child: {reached}")
    return X - X.mean(axis=0)
"""


def test_a_socket_left_in_flight_is_out_of_reach_of_the_next_child(tmp_path, forked):
    reacher = build_submission(tmp_path / "reacher", "zero_centered", REACH_SOCKETS)
    first, second = attack_then_victim(tmp_path, forked, LEAVE_SOCKETS, victim=reacher)
    assert second.score == second.max_score, outputs_of(second, "zero_centered")
    assert "PermissionError" in outputs_of(first, "zero_centered")  # because socket() is refused
