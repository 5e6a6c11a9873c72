"""Memory: a memory bomb ends in "exceeded the memory limit" for its function, and
memory outside that limit (shared memory, memory files, files in /tmp) is refused or
capped."""
import os
import re

import pytest

from autograder.sandbox import BubblewrapLauncher, Limits
from autograder.sandbox.launchers import SCRATCH_FILES

from .support import assert_honest_functions_kept_their_points, assert_hostile_function_earned_nothing, outputs_of

GROWING_ARRAYS = """
def batchnorm_backward_alt(dout, cache):
    import numpy as np
    blocks = []
    while True:
        blocks.append(np.ones(10 ** 7))  # 80 MB, every page touched
"""

DOUBLING_BYTES = """
def batchnorm_backward_alt(dout, cache):
    data = b"x" * (1 << 20)
    while True:
        data += data
"""

ONE_HUGE_ARRAY = """
def batchnorm_backward_alt(dout, cache):
    import numpy as np
    return np.zeros((1 << 20, 1 << 12)) + 1.0  # 32 GiB
"""


def assert_memory_limit_held(result, reference_scores, gib):
    assert_hostile_function_earned_nothing(result, "batchnorm_backward_alt")
    sentence = f"batchnorm_backward_alt exceeded the memory limit ({gib} GiB)"
    assert sentence in outputs_of(result, "batchnorm_backward_alt")
    assert_honest_functions_kept_their_points(result, reference_scores, ["batchnorm_backward_alt"])


# Filling memory page by page is slow on small machines, so these bombs meet a
# lower limit (and a longer time limit) than the default.
@pytest.mark.parametrize("source", [GROWING_ARRAYS, DOUBLING_BYTES], ids=["growing-arrays", "doubling-bytes"])
def test_a_growing_memory_bomb_exceeds_the_limit_of_its_function_only(hostile, grade, reference_scores, source):
    launcher = BubblewrapLauncher(Limits(memory_bytes=512 << 20))
    result = grade(hostile("batchnorm_backward_alt", source), launcher=launcher, timeout=8)
    assert_memory_limit_held(result, reference_scores, "0.5")


def test_one_huge_array_exceeds_the_default_limit(hostile, grade, reference_scores):
    result = grade(hostile("batchnorm_backward_alt", ONE_HUGE_ARRAY))
    assert_memory_limit_held(result, reference_scores, "1.5")


# Memory outside the address-space limit. System V shared memory: one 1 GiB segment
# mapped at a time stays within RLIMIT_AS, and each detached segment stays in the
# machine's memory until removed (3 GiB were held during one call before). memfd:
# files in memory that need not be mapped at all. All are refused by the sandbox's
# system-call filter.
PIN_SYSV_MEMORY = """
def batchnorm_backward_alt(dout, cache):
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    libc.shmat.restype = ctypes.c_void_p
    libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
    libc.shmdt.argtypes = [ctypes.c_void_p]
    for _ in range(2):
        segment = libc.shmget(0, ctypes.c_size_t(1 << 30), 0o1600)  # IPC_PRIVATE, IPC_CREAT | 0600
        if segment < 0:
            raise RuntimeError(f"shmget refused: errno {ctypes.get_errno()}")
        address = libc.shmat(segment, None, 0)
        ctypes.memset(address, 1, 1 << 30)
        libc.shmdt(ctypes.c_void_p(address))
    raise RuntimeError("held 2 GiB of shared memory")
"""

HOLD_MEMFD = """
def batchnorm_backward_alt(dout, cache):
    import os
    block = bytes(64 << 20)
    try:
        held = [os.memfd_create("held") for _ in range(32)]
    except OSError as err:
        raise RuntimeError(f"memfd_create refused: errno {err.errno}")
    for fd in held:
        os.write(fd, block)
    raise RuntimeError("held 2 GiB in memory files")
"""

# A user namespace of its own, in which the child may mount a tmpfs of any size (4 GiB
# were held for the whole budget before, past every limit).
MOUNT_OWN_TMPFS = """
def batchnorm_backward_alt(dout, cache):
    import ctypes, os
    libc = ctypes.CDLL(None, use_errno=True)
    uid = os.getuid()
    libc.prctl(4, 1, 0, 0, 0)  # PR_SET_DUMPABLE, so that it may write its own uid_map
    if libc.unshare(0x10000000 | 0x00020000) < 0:  # CLONE_NEWUSER | CLONE_NEWNS
        raise RuntimeError(f"unshare refused: errno {ctypes.get_errno()}")
    with open("/proc/self/uid_map", "w") as uid_map:
        uid_map.write(f"0 {uid} 1")
    if libc.mount(b"none", b"/dev/shm", b"tmpfs", 0, b"size=64g") < 0:
        raise RuntimeError(f"mount refused: errno {ctypes.get_errno()}")
    raise RuntimeError("held a tmpfs of 64 GiB")
"""


@pytest.mark.parametrize("source, refused", [(PIN_SYSV_MEMORY, "shmget refused: errno 1"),
                                             (HOLD_MEMFD, "memfd_create refused: errno 1"),
                                             (MOUNT_OWN_TMPFS, "unshare refused: errno 1")],
                         ids=["sysv", "memfd", "own-tmpfs"])
def test_memory_outside_the_address_space_limit_is_refused(hostile, grade, reference_scores, source, refused):
    result = grade(hostile("batchnorm_backward_alt", source), timeout=8)
    assert_hostile_function_earned_nothing(result, "batchnorm_backward_alt")
    output = outputs_of(result, "batchnorm_backward_alt")
    assert refused in output and "held" not in output
    assert_honest_functions_kept_their_points(result, reference_scores, ["batchnorm_backward_alt"])


# Files in the private /tmp: tmpfs counted only bytes (64 MiB), and 3.1 million empty
# files took 3.3 GiB of the kernel's memory, and 14 s to remove. As root, the sandbox
# caps them (a sandbox in a user namespace cannot).
FILL_TMP_WITH_FILES = """
def batchnorm_backward_alt(dout, cache):
    import os
    made = 0
    try:
        while True:
            os.close(os.open(f"/tmp/f{made}", os.O_CREAT | os.O_WRONLY, 0o600))
            made += 1
    except OSError as err:
        raise RuntimeError(f"stopped after {made} files: {err.strerror}")
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="the files of /tmp are capped in a sandbox that root starts")
def test_files_in_tmp_stop_at_the_cap(hostile, grade, reference_scores):
    result = grade(hostile("batchnorm_backward_alt", FILL_TMP_WITH_FILES), timeout=8)
    assert_hostile_function_earned_nothing(result, "batchnorm_backward_alt")
    output = outputs_of(result, "batchnorm_backward_alt")
    made = re.search(r"stopped after (\d+) files: No space left on device", output)
    assert made and int(made[1]) < SCRATCH_FILES, output
    assert_honest_functions_kept_their_points(result, reference_scores, ["batchnorm_backward_alt"])
