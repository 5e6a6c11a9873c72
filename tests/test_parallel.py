"""A class graded in worker processes or on a dask cluster gets the same results as
in one process; a worker that dies costs at most its submission; a signal to the
grader ends its workers and their sandboxes too."""
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from autograder import cli, sandbox
from autograder.classroom import WORKER_DIED, grade_class
from autograder.plain import to_plain
from autograder.sandbox import scratch

ROOT = Path(__file__).resolve().parent.parent
QUICK = ("reference-solution", "bn-unbiased-variance", "pre-sample-std", "syntax-error")


def plain(result):
    """What a result says, minus how long it took."""
    return {**to_plain(result), "execution_time": None}


def folders(demo_folders, *names):
    by_name = {f.name: f for f in demo_folders}
    return [by_name[name] for name in names]


def test_worker_processes_grade_as_one_process_does(demo_folders, demo):
    """The demo fixture is graded with 2 worker processes; one process agrees."""
    in_process = grade_class(folders(demo_folders, *QUICK), jobs=1, progress=False)
    assert [plain(r) for r in in_process] == [plain(demo[name]) for name in QUICK]
    assert in_process[0].score == in_process[0].max_score > 0


class WorkerKiller(threading.Thread):
    """Kills the grader's worker processes (children of this test process) once
    they have lived ``after`` seconds; ``once``: only the first ones it finds."""

    def __init__(self, after, once):
        super().__init__(daemon=True)
        self.after, self.once, self.killed, self.stop = after, once, [], threading.Event()

    def run(self):
        seen = {}
        while not self.stop.wait(0.05):
            now = time.monotonic()
            old = [p for p in multiprocessing.active_children() if now - seen.setdefault(p.pid, now) > self.after]
            for process in old:
                os.kill(process.pid, signal.SIGKILL)
                self.killed.append(process.pid)
            if old and self.once:
                return


def test_a_killed_worker_costs_its_submissions_a_regrade_only(demo_folders, demo):
    names = ("endless-loop", *QUICK)  # endless-loop keeps a worker busy for its 5 s call timeout
    killer = WorkerKiller(after=1.5, once=True)
    killer.start()
    results = grade_class(folders(demo_folders, *names), jobs=2, progress=False)
    killer.join()
    assert len(killer.killed) == 2
    assert [plain(r) for r in results] == [plain(demo[name]) for name in names]


def test_a_submission_whose_worker_dies_again_alone_is_reported(demo_folders, tmp_path):
    hanging = folders(demo_folders, "endless-loop")[0]
    twin = shutil.copytree(hanging, tmp_path / "endless-twin")
    killer = WorkerKiller(after=1.0, once=False)
    killer.start()
    try:
        results = grade_class([hanging, twin], jobs=2, out=tmp_path / "out", progress=False)
    finally:
        killer.stop.set()
    assert [(r.name, r.score, r.status) for r in results] == [("endless-loop", 0, "grader failed"),
                                                              ("endless-twin", 0, "grader failed")]
    assert {r.notice for r in results} == {r.outcomes[0].output for r in results} == {WORKER_DIED}
    assert results[0].faults == [("endless-loop", "the worker process grading it died, twice")]
    assert WORKER_DIED in (tmp_path / "out" / "endless-twin.md").read_text()


def _stat(pid):
    """The fields of /proc/PID/stat after the command's name, or None when it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def started_at(pid):
    fields = _stat(pid)
    return fields and fields[19]  # starttime, in clock ticks since boot


def running(pid, started):
    """Whether the process ``pid`` that started at ``started`` still runs: not gone, not
    a zombie waiting for a reaper (it has ended), not another process under a reused pid."""
    fields = _stat(pid)
    return fields is not None and fields[19] == started and fields[0] != "Z"


def descendants(pid):
    """Every process below ``pid``, read from /proc."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError):
            continue
    below, grew = {pid}, True
    while grew:
        more = {child for child, parent in parents.items() if parent in below} - below
        below |= more
        grew = bool(more)
    return below - {pid}


def test_sigterm_to_the_grader_ends_its_workers_and_their_sandboxes(demo_folders, tmp_path):
    hanging = folders(demo_folders, "endless-loop")[0]
    class_ = [shutil.copytree(hanging, tmp_path / f"student-{i}") for i in range(2)]
    grader = subprocess.Popen([sys.executable, "-m", "autograder", "grade", *map(str, class_), "--jobs", "2",
                               "--out", str(tmp_path / "out")], cwd=ROOT, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and len(descendants(grader.pid)) < 5:  # 2 workers, their sandboxes
        time.sleep(0.1)
    family = {pid: started_at(pid) for pid in descendants(grader.pid)}
    assert len(family) >= 5, family
    # Their scratch folders, named by pid: taken now, since a pid of the family may be
    # another test's process by the time it is looked up again.
    scratch_folders = [p for pid in (grader.pid, *family)
                       for p in Path(tempfile.gettempdir()).glob(f"{scratch.PREFIX}{pid}-*")]
    assert scratch_folders
    grader.send_signal(signal.SIGTERM)
    assert grader.wait(timeout=20) == -signal.SIGTERM
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(running(pid, started) for pid, started in family.items()):
        time.sleep(0.1)
    assert not [pid for pid, started in family.items() if running(pid, started)]
    assert [p for p in scratch_folders if p.exists()] == []


def test_dask_without_distributed_is_a_usage_error(monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if it were not installed
    assert cli.main(["grade", str(ROOT / "solutions" / "batchnorm"), "--dask", "tcp://127.0.0.1:8786"]) == 2
    assert "--dask needs dask's distributed package, an optional extra" in capsys.readouterr().err


def kept_sandboxes_here():
    """On a dask worker: how many kept sandboxes wait for a child in its process."""
    from autograder.sandbox import ForkedLauncher
    return len(ForkedLauncher._idle)


def test_a_class_on_a_dask_cluster_gets_the_local_results(demo_folders, demo, tmp_path):
    """With the launcher the command line builds by default (as root: the kept sandbox,
    which before could not be sent, so --dask failed before grading)."""
    distributed = pytest.importorskip("distributed", reason="dask.distributed, an optional extra, is not installed")
    launcher = sandbox.launcher()
    class_ = folders(demo_folders, *QUICK, "untouched-release")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as local, \
            distributed.Client(local) as client:
        (tmp_path / "empty").mkdir()  # nothing to send: graded, as nothing, here
        results = grade_class([*class_, tmp_path / "empty"], cluster=client, out=tmp_path / "out", progress=False,
                              launcher=launcher)
        kept = client.run(kept_sandboxes_here)
    assert [plain(r) for r in results[:-1]] == [plain(demo[f.name]) for f in class_]
    assert (results[-1].status, results[-1].score) == ("no modules found", 0)
    assert len(list((tmp_path / "out").glob("*.json"))) == len(results) + 1  # and summary.json
    if isinstance(launcher, sandbox.ForkedLauncher):  # each worker graded in a kept sandbox of its own
        assert sum(kept.values()) >= 1 and all(count <= 1 for count in kept.values()), kept
