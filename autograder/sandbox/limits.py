"""Resource limits (setrlimit) for the child process, and their description.

``confine.py`` applies them just before it becomes the child, so they hold for
the child and for every process it starts.
"""
from dataclasses import dataclass

GiB = 1 << 30
MiB = 1 << 20


@dataclass(frozen=True)
class Limits:
    """Per-process limits of the child and of everything it starts.

    ``memory_bytes`` caps each process's address space (numpy then raises
    MemoryError); ``processes`` caps the processes and threads of the child's uid
    (so a submission holds at most ``processes * memory_bytes``); ``file_bytes``
    the size of any file it writes; ``cpu_seconds`` the CPU time of each process
    over its whole life, a backstop behind the per-call time limit."""
    memory_bytes: int = 3 * GiB // 2
    processes: int = 8
    file_bytes: int = 64 * MiB
    cpu_seconds: int = 300

    def confine_args(self, *, processes=True):
        """The arguments of ``confine.py`` that set these limits; without the
        process limit where it would count the grader's own processes too."""
        settings = [("as", self.memory_bytes), ("fsize", self.file_bytes), ("cpu", self.cpu_seconds)]
        if processes:
            settings.append(("nproc", self.processes))
        return [f"{name}={value}" for name, value in settings]

    def describe(self, *, processes=True):
        """The limits as items of a result's list of protections."""
        items = [f"memory limit {gib(self.memory_bytes)} GiB per process",
                 f"file size limit {self.file_bytes // MiB} MiB", "no core dumps",
                 f"CPU time limit {self.cpu_seconds} s per process"]
        if processes:
            items.insert(1, f"at most {self.processes} processes and threads")
        return items


def gib(nbytes):
    """1.5 for 1.5 GiB, 2 for 2 GiB."""
    return f"{nbytes / GiB:.3g}"
