"""Run a command under resource limits, optionally as another user.

    python -I -S confine.py as=BYTES nproc=N fsize=BYTES cpu=SECONDS [uid=U] -- COMMAND...

A trusted helper of the launchers (the fork server calls ``confine`` in each
child it forks): it lowers the limits, gives up root for ``uid``
(group ``uid`` too, no supplementary groups; every capability goes with it), sets
no_new_privs (so that no setuid program, e.g. su or passwd, can give root back),
and replaces itself with COMMAND, so that COMMAND and everything it starts inherit
all of it. The CPU limit's soft value sends SIGXCPU one second before the hard one
kills. It imports nothing but the standard library: it runs inside the sandbox,
where the grader's packages are not.
"""
import ctypes
import os
import resource
import sys

RLIMITS = {"as": resource.RLIMIT_AS, "nproc": resource.RLIMIT_NPROC, "fsize": resource.RLIMIT_FSIZE,
           "cpu": resource.RLIMIT_CPU}
PR_SET_NO_NEW_PRIVS = 38  # <linux/prctl.h>


def no_new_privileges():
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise SystemExit(f"confine.py: could not set no_new_privs: {os.strerror(ctypes.get_errno())}")


def confine(settings):
    """Apply ``settings`` (as on the command line: {"as": "BYTES", ..., "uid": "U"})
    to this process and all it will start."""
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


def main(argv):
    split = argv.index("--")
    confine(dict(item.split("=", 1) for item in argv[:split]))
    command = argv[split + 1:]
    os.execv(command[0], command)


if __name__ == "__main__":
    main(sys.argv[1:])
