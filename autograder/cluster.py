"""Grading on a dask.distributed cluster (docs/cluster.md): one task per
submission, which carries the submission's modules as bytes (the workers may be
other machines) and is graded in the worker's own sandbox; the Result comes back
as plain data. dask is an optional extra: only ``connect`` imports it."""
import os
import tempfile
from pathlib import Path

from . import sandbox
from .assignments import load
from .grade import _copy_modules, grade_submission, links_notice
from .intake import UsageError
from .kit.runner import Launcher
from .plain import to_plain
from .sandbox import BubblewrapLauncher, ForkedLauncher, LimitsLauncher

ADDRESS_VARIABLE = "DASK_SCHEDULER_ADDRESS"
REQUIREMENTS = "distributed==2026.8.0"
IN_FLIGHT_PER_THREAD = 4  # tasks handed to the scheduler ahead of the workers: the rest wait as file names
LOST = ("The machine grading this submission was lost, more than once, so nothing was graded. "
        "Your instructor can see why.")
FAILED = "The grader failed on this submission; nothing was graded. Your instructor can see why."


def connect(address):
    """A dask client of the scheduler at ``address``; a UsageError, before anything is
    graded, when dask is not installed or the scheduler does not answer."""
    try:
        from distributed import Client
    except ImportError:
        raise UsageError(f"--dask needs dask's distributed package, an optional extra of the grader: "
                         f"pip install '{REQUIREMENTS}'") from None
    try:
        return Client(address, timeout="20s")
    except (OSError, TimeoutError) as err:
        raise UsageError(f"no dask scheduler answered at {address} ({err}); start one with `dask scheduler`") from None


def sendable(submission):
    """Whether the submission is a real folder of modules to send (anything else is
    graded, as nothing, where it is)."""
    folder = submission.folder
    return submission.status == "graded" and not os.path.islink(folder) and os.path.isdir(folder)


def module_files(folder):
    """The submission's modules as {file name: bytes}, read as grading reads them
    (top-level .py files, links never followed), and the names of those that are links."""
    with tempfile.TemporaryDirectory(prefix="autograder-send-") as copy:
        links = _copy_modules(folder, Path(copy))
        return {path.name: path.read_bytes() for path in Path(copy).iterdir()}, links


def graded_on_cluster(client, work, options):
    """(index, plain Result or exception) of each (index, submission, name) of
    ``work``, graded on ``client``'s cluster, as each comes back; only a few tasks
    per worker thread wait at a time, so a class of any size fits in memory. A task that
    raised is retried once; a task whose worker was lost is rescheduled by the
    scheduler (as often as its ``allowed-failures`` says), then fails with
    KilledWorker."""
    from distributed import as_completed

    graded, launcher = options["assignment"], options.get("launcher")
    common = {"assignment": graded.name, "course": str(graded.course), "mode": sandbox_mode(launcher),
              "limits": getattr(launcher, "limits", None),
              **{key: options[key] for key in ("timeout", "budget") if key in options}}

    def send(count):
        """Hand ``count`` more submissions to the cluster; yield those that could not be read."""
        for i, submission, name in waiting:
            try:
                files, links = module_files(submission.folder)
            except OSError as err:
                yield i, err
                continue
            future = client.submit(grade_files, files, links, name, **common, retries=1, pure=False)
            index[future.key] = i
            arrived.add(future)
            count -= 1
            if count == 0:
                return

    index, waiting, arrived = {}, iter(work), as_completed()
    yield from send(IN_FLIGHT_PER_THREAD * (sum(client.nthreads().values()) or 1))
    for future in arrived:
        try:
            yield index.pop(future.key), future.result()
        except Exception as err:  # the task's own failure, or its workers'
            yield index.pop(future.key), err
        future.release()
        yield from send(1)


def failure_sentence(err):
    """What the student reads when the cluster could not grade their submission."""
    from distributed import KilledWorker
    return LOST if isinstance(err, KilledWorker) else FAILED


def sandbox_mode(launcher):
    """The sandbox mode a worker rebuilds ``launcher`` with, for its own machine: a
    launcher of bubblewrap, kept sandbox (the default as root) or not, asks the worker
    for bubblewrap, which a worker that is root gives as a kept sandbox of its own."""
    modes = {type(None): "auto", Launcher: "none", BubblewrapLauncher: "bubblewrap", ForkedLauncher: "bubblewrap",
             LimitsLauncher: "limits"}
    if type(launcher) not in modes:
        raise ValueError(f"{launcher!r} cannot be sent to a dask worker; use one of autograder.sandbox's launchers")
    return modes[type(launcher)]


def grade_files(files, links, name, *, assignment, course, mode, limits, **options):
    """On a worker: grade the modules ``files`` ({file name: bytes}) in this
    machine's sandbox, with the assignment of the course at the same path as on the
    grader's machine; the Result as plain data."""
    graded = load(assignment, course)
    with tempfile.TemporaryDirectory(prefix="autograder-received-") as folder:
        for file, data in files.items():
            (Path(folder) / Path(file).name).write_bytes(data)
        result = grade_submission(folder, assignment=graded, launcher=sandbox.launcher(mode, limits), name=name,
                                  **options)
    if result.status == "graded":
        result.notice = links_notice(links)  # the links stayed on the grader's machine
    return to_plain(result)
