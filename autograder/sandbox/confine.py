"""Run a command under resource limits, optionally as another user.

    python -I -S confine.py as=BYTES nproc=N fsize=BYTES cpu=SECONDS [uid=U] -- COMMAND...

A trusted helper of the launchers: it lowers the limits, gives up root for ``uid``
(group ``uid`` too, no supplementary groups; every capability goes with it), and
replaces itself with COMMAND, so that COMMAND and everything it starts inherit all
of it. The CPU limit's soft value sends SIGXCPU one second before the hard one
kills. It imports nothing but the standard library: it runs inside the sandbox,
where the grader's packages are not.
"""
import os
import resource
import sys

RLIMITS = {"as": resource.RLIMIT_AS, "nproc": resource.RLIMIT_NPROC, "fsize": resource.RLIMIT_FSIZE,
           "cpu": resource.RLIMIT_CPU}


def main(argv):
    split = argv.index("--")
    settings = dict(item.split("=", 1) for item in argv[:split])
    command = argv[split + 1:]
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
    os.execv(command[0], command)


if __name__ == "__main__":
    main(sys.argv[1:])
