"""The machinery that confines student code: how the child process that runs a
submission is started, limited and stopped. It knows nothing of what is graded.

``launcher()`` picks the strongest launcher that works here: bubblewrap
namespaces when ``bwrap`` can create them, otherwise resource limits alone.
Each launcher's ``protections`` names what is in force; the results show it.
"""
import functools

from .. import public
from .launchers import BubblewrapLauncher, LimitsLauncher
from .limits import GiB, Limits

MODES = ("auto", "bubblewrap", "limits", "none")


@functools.cache
def bubblewrap_works():
    """Whether bubblewrap can confine a child here (probed once per process)."""
    return BubblewrapLauncher().works()


class SandboxUnavailable(RuntimeError):
    """The sandbox was asked for but cannot run here."""


def launcher(mode="auto", limits=None):
    """A launcher for ``mode``: "auto" (bubblewrap if it works, else limits),
    "bubblewrap", "limits" (the fallback), or "none" (a plain child process, as the
    student's own self-check runs it)."""
    if mode not in MODES:
        raise ValueError(f"unknown sandbox mode {mode!r}; choose one of {', '.join(MODES)}")
    if mode == "none":
        return public.runner.Launcher()
    if mode == "limits" or (mode == "auto" and not bubblewrap_works()):
        return LimitsLauncher(limits)
    if not bubblewrap_works():
        raise SandboxUnavailable("bubblewrap cannot create namespaces here: install the Debian package "
                                 "'bubblewrap' (make sandbox-tools) and allow user namespaces, or grade "
                                 "with --sandbox limits")
    return BubblewrapLauncher(limits)
