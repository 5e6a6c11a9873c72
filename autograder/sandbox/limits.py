"""Resource limits (setrlimit) for the child process, and their description.

The limits are applied by ``confine.py`` just before it replaces itself with the
child (or with bubblewrap, which passes them on), so they hold for the child and
for every process it starts.
"""
import os
import resource
from dataclasses import dataclass

GiB = 1 << 30
MiB = 1 << 20
UNPRIVILEGED_UID = 65534  # "nobody" on Debian; any uid without files of its own will do


@dataclass(frozen=True)
class Limits:
    """Per-process limits of the child and of everything it starts.

    ``memory_bytes`` caps each process's address space (numpy then raises
    MemoryError); ``processes`` caps the processes and threads of the child's user;
    ``file_bytes`` the size of any file it writes; ``cpu_seconds`` the CPU time of
    each process over its whole life, a backstop behind the per-call time limit."""
    memory_bytes: int = 3 * GiB // 2
    processes: int = 16
    file_bytes: int = 64 * MiB
    cpu_seconds: int = 300

    def rlimits(self):
        return {resource.RLIMIT_AS: self.memory_bytes, resource.RLIMIT_NPROC: self.processes,
                resource.RLIMIT_FSIZE: self.file_bytes, resource.RLIMIT_CPU: self.cpu_seconds,
                resource.RLIMIT_CORE: 0}

    def confine_args(self):
        """The arguments of ``confine.py`` that set these limits."""
        return [f"{name}={value}" for name, value in (("as", self.memory_bytes), ("nproc", self.processes),
                                                       ("fsize", self.file_bytes), ("cpu", self.cpu_seconds))]

    def describe(self, *, processes_enforced=True):
        """The limits as items of a result's list of protections."""
        items = [f"memory limit {gib(self.memory_bytes)} GiB per process",
                 f"file size limit {self.file_bytes // MiB} MiB", "no core dumps",
                 f"CPU time limit {self.cpu_seconds} s per process"]
        if processes_enforced:
            items.insert(1, f"at most {self.processes} processes and threads")
        return items


def gib(nbytes):
    """1.5 for 1.5 GiB, 2 for 2 GiB."""
    return f"{nbytes / GiB:.3g}"


def nproc_is_enforced(uid=None):
    """RLIMIT_NPROC does not bind root (nor a process with CAP_SYS_RESOURCE)."""
    return (os.geteuid() if uid is None else uid) != 0
