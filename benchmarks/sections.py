"""What every benchmark returns: a titled table with notes, and the targets judged."""
import statistics
import subprocess
import time
from dataclasses import dataclass, field


@dataclass
class Section:
    title: str
    headers: list
    rows: list = field(default_factory=list)
    notes: list = field(default_factory=list)

    def text(self):
        if not self.headers:
            return "\n".join([f"== {self.title}"] + [f"   {note}" for note in self.notes])
        cells = [self.headers] + [[str(c) for c in row] for row in self.rows]
        widths = [max(len(row[i]) for row in cells) for i in range(len(self.headers))]
        lines = [f"== {self.title}"] + ["  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in cells]
        return "\n".join(lines + [f"   {note}" for note in self.notes])

    def markdown(self):
        lines = [f"## {self.title}", ""]
        if self.headers:
            lines += ["| " + " | ".join(self.headers) + " |", "|" + "---|" * len(self.headers)]
            lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in self.rows]
        return "\n".join(lines + [""] + [f"{note}\n" for note in self.notes])


@dataclass
class Target:
    goal: str
    measured: str
    met: object  # True, False, or None when it could not be measured here

    @property
    def verdict(self):
        return {True: "met", False: "NOT met", None: "not measured"}[self.met]


def seconds(function, repeat):
    """Median wall time of ``repeat`` calls of ``function``."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run(argv, **options):
    """Run a command that must succeed; its output is kept out of the benchmark's."""
    done = subprocess.run(argv, capture_output=True, text=True, **options)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, argv))} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return done


def fmt(value, unit="s"):
    if value >= 100:
        return f"{value:.0f} {unit}"
    return f"{value:.3g} {unit}" if value >= 0.01 else f"{value * 1e3:.3g} m{unit}"
