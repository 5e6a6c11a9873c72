"""Run a command under resource limits, optionally as another user.

    python -I -S confine.py as=BYTES nproc=N fsize=BYTES cpu=SECONDS [uid=U] [inodes=N] [sockets=allow] -- COMMAND...

A trusted helper of the launchers (the fork server calls ``confine`` in each
child it forks): it lowers the limits, gives up root for ``uid``
(group ``uid`` too, no supplementary groups; every capability goes with it), sets
no_new_privs (so that no setuid program, e.g. su or passwd, can give root back),
installs a system-call filter (``REFUSED``, clone's new namespaces, and ``SOCKETS`` unless ``sockets=allow``:
a process that serves its parent over sockets, such as a notebook kernel, needs
them), and replaces itself with COMMAND, so that COMMAND and everything it starts
inherit all of it. The CPU limit's soft value
sends SIGXCPU one second before the hard one kills. ``inodes`` caps the files of the
sandbox's private /tmp (bubblewrap's, as root: never given to the fallback, whose
/tmp is the machine's). It imports nothing but the standard library: it runs inside
the sandbox, where the grader's packages are not.
"""
import ctypes
import errno
import os
import resource
import struct
import sys

RLIMITS = {"as": resource.RLIMIT_AS, "nproc": resource.RLIMIT_NPROC, "fsize": resource.RLIMIT_FSIZE,
           "cpu": resource.RLIMIT_CPU}
PR_SET_NO_NEW_PRIVS = 38  # <linux/prctl.h>
PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 22, 2
# System calls no numpy code needs, each refused with EPERM: those that make an object
# that outlives the child in a namespace or a uid the next child shares (System V IPC
# and POSIX message queues, keys in the uid's keyring, and sockets, which can be kept
# "in flight" in a message to themselves), memory outside the address-space limit
# (memfd, and System V shared memory again), io_uring, whose requests would run other
# calls past this filter, and new namespaces: in a user namespace of its own a child
# could mount a tmpfs of any size, memory outside every limit.
# Numbers (x86-64, arm64): <asm/unistd_64.h>, <asm-generic/unistd.h>.
REFUSED = {
    "shmget": (29, 194), "shmat": (30, 196), "shmctl": (31, 195), "shmdt": (67, 197),
    "semget": (64, 190), "semop": (65, 193), "semctl": (66, 191), "semtimedop": (220, 192),
    "msgget": (68, 186), "msgsnd": (69, 189), "msgrcv": (70, 188), "msgctl": (71, 187),
    "mq_open": (240, 180), "mq_unlink": (241, 181), "mq_timedsend": (242, 182), "mq_timedreceive": (243, 183),
    "mq_notify": (244, 184), "mq_getsetattr": (245, 185),
    "add_key": (248, 217), "request_key": (249, 218), "keyctl": (250, 219),
    "memfd_create": (319, 279), "memfd_secret": (447, 447),
    "io_uring_setup": (425, 425), "io_uring_enter": (426, 426), "io_uring_register": (427, 427),
    "unshare": (272, 97), "setns": (308, 268),
}
# clone makes threads and processes, and namespaces too: refused only with a CLONE_NEW*
# flag (<linux/sched.h>). clone3 passes its flags in memory, which a filter cannot read:
# it answers ENOSYS, on which the C library falls back to clone.
CLONE, CLONE3 = (56, 220), (435, 435)
CLONE_NEW_NAMESPACES = 0x7E020080
SOCKETS = {"socket": (41, 198), "socketpair": (53, 199)}
# os.uname().machine: (column of REFUSED, AUDIT_ARCH_* of <linux/audit.h>)
ARCHITECTURES = {"x86_64": (0, 0xC000003E), "aarch64": (1, 0xC00000B7)}
X32_BIT = 0x40000000  # x86-64's x32 calls: the same calls under other numbers
# The new mount API (the same numbers on every architecture): reconfigure a mounted tmpfs.
FSCONFIG, FSPICK = 431, 433
FSCONFIG_SET_STRING, FSCONFIG_CMD_RECONFIGURE, FSPICK_CLOEXEC = 1, 7, 1
CAP_SYS_ADMIN = 21
_LINUX_CAPABILITY_VERSION_3 = 0x20080522

libc = ctypes.CDLL(None, use_errno=True)


def _check(result, what):
    if result < 0:
        raise SystemExit(f"confine.py: could not {what}: {os.strerror(ctypes.get_errno())}")
    return result


def no_new_privileges():
    _check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "set no_new_privs")


def refuse_system_calls(sockets=False):
    """Install the seccomp filter refusing ``REFUSED``, ``SOCKETS`` unless ``sockets``,
    and every call made through another architecture's numbers; it holds for this
    process and all it starts."""
    machine = os.uname().machine
    if machine not in ARCHITECTURES:
        raise SystemExit(f"confine.py: no system-call filter for this machine ({machine}); the sandbox "
                         "supports x86_64 and aarch64")
    column, arch = ARCHITECTURES[machine]
    numbers = [numbers[column] for numbers in [*REFUSED.values(), *([] if sockets else SOCKETS.values())]]
    load, equal, at_least, has_bits, answer = 0x20, 0x15, 0x35, 0x45, 0x06  # BPF_LD|W|ABS, BPF_JMP|JEQ|K,
    # ..|JGE|K, ..|JSET|K, BPF_RET|K; SECCOMP_RET_ERRNO (EPERM, ENOSYS), SECCOMP_RET_ALLOW
    refuse, missing, allow = 0x00050000 | errno.EPERM, 0x00050000 | errno.ENOSYS, 0x7FFF0000
    # (code, jump if true, jump if false, k), jumps forward only; seccomp_data: the call's
    # number at 0, its architecture at 4, the low half of its first argument at 16.
    # It ends [allow, refuse, missing, clone's flags, their test, allow, refuse].
    n = len(numbers)
    program = [(load, 0, 0, 4), (equal, 1, 0, arch), (answer, 0, 0, refuse), (load, 0, 0, 0)]
    if machine == "x86_64":
        program.append((at_least, n + 3, 0, X32_BIT))
    program += [(equal, n + 2 - i, 0, number) for i, number in enumerate(numbers)]
    program += [(equal, 3, 0, CLONE3[column]), (equal, 3, 0, CLONE[column]),
                (answer, 0, 0, allow), (answer, 0, 0, refuse), (answer, 0, 0, missing),
                (load, 0, 0, 16), (has_bits, 1, 0, CLONE_NEW_NAMESPACES),
                (answer, 0, 0, allow), (answer, 0, 0, refuse)]
    code = ctypes.create_string_buffer(b"".join(struct.pack("=HBBI", *step) for step in program))
    fprog = _SockFprog(len(program), ctypes.addressof(code))
    _check(libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0),
           "install the system-call filter")


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def limit_scratch_files(inodes):
    """Cap the number of files and folders in the sandbox's private /tmp at ``inodes``
    (tmpfs counts bytes, and by default up to half the machine's memory pages in
    files, each costing the kernel about a KiB), then give up CAP_SYS_ADMIN, which
    bubblewrap granted for this alone."""
    picked = _check(libc.syscall(FSPICK, -100, b"/tmp", FSPICK_CLOEXEC, 0), "open /tmp to cap its files")  # AT_FDCWD
    try:
        _check(libc.syscall(FSCONFIG, picked, FSCONFIG_SET_STRING, b"nr_inodes", str(inodes).encode(), 0),
               "cap the files of /tmp")
        _check(libc.syscall(FSCONFIG, picked, FSCONFIG_CMD_RECONFIGURE, None, None, 0), "cap the files of /tmp")
    finally:
        os.close(picked)
    header = (ctypes.c_uint32 * 2)(_LINUX_CAPABILITY_VERSION_3, 0)
    sets = (ctypes.c_uint32 * 6)()  # effective, permitted, inheritable: capabilities 0-31, then 32-63
    _check(libc.capget(header, sets), "read its capabilities")
    for i in range(3):  # leaving the permitted and inheritable sets also leaves the ambient one
        sets[i] &= ~(1 << CAP_SYS_ADMIN)
    _check(libc.capset(header, sets), "give up CAP_SYS_ADMIN")


def confine(settings):
    """Apply ``settings`` (as on the command line: {"as": "BYTES", ..., "uid": "U"})
    to this process and all it will start."""
    if "inodes" in settings:
        limit_scratch_files(int(settings["inodes"]))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    for key, limit in RLIMITS.items():
        if key in settings:
            value = int(settings[key])
            resource.setrlimit(limit, (value, value + 1 if key == "cpu" else value))
    if "uid" in settings:
        uid = int(settings["uid"])
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
        if 0 in os.getresuid():
            raise SystemExit("confine.py: could not give up root")
    no_new_privileges()
    refuse_system_calls(sockets=settings.get("sockets") == "allow")


def main(argv):
    split = argv.index("--")
    confine(dict(item.split("=", 1) for item in argv[:split]))
    command = argv[split + 1:]
    os.execv(command[0], command)


if __name__ == "__main__":
    main(sys.argv[1:])
