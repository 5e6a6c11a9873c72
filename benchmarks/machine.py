"""A description of the machine and software a benchmark ran on."""
import os
import platform
import shutil
import subprocess
import time
from importlib import metadata

from autograder.assignments import ROOT


def _cpu():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory():
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal"):
                return f"{int(line.split()[1]) / 2 ** 20:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _version(package):
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _command(argv):
    try:
        done = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def describe():
    """[(what, value)] for the report's header."""
    return [("date (UTC)", time.strftime("%Y-%m-%d %H:%M", time.gmtime())),
            ("commit", _command(["git", "rev-parse", "--short", "HEAD"]) or "unknown"),
            ("CPU", f"{_cpu()}, {os.cpu_count()} logical CPUs"),
            ("memory", _memory()),
            ("load average when the run started (1, 5, 15 min)", ", ".join(f"{v:.2f}" for v in os.getloadavg())),
            ("system", platform.platform()),
            ("Python", platform.python_version()),
            ("numpy / nbgrader / matplotlib", " / ".join(_version(p) for p in ("numpy", "nbgrader", "matplotlib"))),
            ("bubblewrap", (_command(["bwrap", "--version"]) or "present") if shutil.which("bwrap")
             else "not installed")]
