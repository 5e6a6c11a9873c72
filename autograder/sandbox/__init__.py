"""The machinery that confines student code: how the child process that runs a
submission is started, limited and stopped, and the scratch copies it reads. It
knows nothing of what is graded.

``launcher()`` picks the strongest launcher that works here: bubblewrap
namespaces when ``bwrap`` can create them (as root, children forked in a kept
sandbox: forked.py), otherwise resource limits alone (and
only if they can keep student code from running as root). Each launcher's
``protections`` names what is in force; the results show it.
"""
import contextlib
import functools
import os
import signal
import threading

from ..kit.runner import Launcher
from . import scratch
from .forked import ForkedLauncher
from .launchers import BubblewrapLauncher, LimitsLauncher, SandboxUnavailable, end_every_child
from .limits import GiB, Limits

__all__ = ["BubblewrapLauncher", "ForkedLauncher", "GiB", "Limits", "LimitsLauncher", "SandboxUnavailable", "launcher",
           "removed_on_signals"]

MODES = ("auto", "bubblewrap", "limits", "none")
NO_BUBBLEWRAP = ("bubblewrap cannot create namespaces here: install the Debian package 'bubblewrap' "
                 "(make sandbox-tools) and allow user namespaces")


@functools.cache
def bubblewrap_works():
    """Whether bubblewrap can confine a child here (probed once per process)."""
    return BubblewrapLauncher().works()


def launcher(mode="auto", limits=None):
    """A launcher for ``mode``: "auto" (bubblewrap if it works, else limits),
    "bubblewrap", "limits" (the fallback), or "none" (a plain child process, as the
    student's own self-check runs it). Raises SandboxUnavailable, with a sentence
    naming the way out, when the mode cannot confine student code here."""
    if mode not in MODES:
        raise ValueError(f"unknown sandbox mode {mode!r}; choose one of {', '.join(MODES)}")
    if mode == "none":
        return Launcher()
    if mode == "limits":
        return LimitsLauncher(limits)
    if bubblewrap_works():
        # As root, children are forked in a kept sandbox (forked.py): the same
        # confinement, without a start of Python and numpy per submission.
        return ForkedLauncher(limits) if os.geteuid() == 0 else BubblewrapLauncher(limits)
    if mode == "bubblewrap":
        raise SandboxUnavailable(f"{NO_BUBBLEWRAP}, or grade with --sandbox limits")
    try:
        return LimitsLauncher(limits)
    except SandboxUnavailable as err:
        raise SandboxUnavailable(f"{NO_BUBBLEWRAP}; and {err}") from None


@contextlib.contextmanager
def removed_on_signals():
    """While in force (in the main thread only, where Python runs signal
    handlers), SIGTERM and SIGINT first kill the processes of the sandbox uids
    this grader holds, remove their files and the scratch copies, then end the
    grader as the signal would have (status 128 + signal number in a shell)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    def clean_up_and_die(number, frame):
        end_every_child()
        scratch.remove_run_folder()
        signal.signal(number, signal.SIG_DFL)
        os.kill(os.getpid(), number)
    previous = {number: signal.signal(number, clean_up_and_die) for number in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
