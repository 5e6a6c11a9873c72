"""Hostile submissions: the reference solution with ONE function replaced by code
that attacks the grader. Each test grades such a submission and checks that the
protection held and that the honest functions still earned their points."""
import ast
import os
import shutil
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from autograder import public, sandbox
from autograder.grade import grade_submission

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = ROOT / "solutions" / "batchnorm"
TIMEOUT = 1.5  # seconds per call; the reference answers in milliseconds
FUNCTIONS = public.framework.FUNCTIONS


def replace_function(module, name, source):
    """Put ``source`` (a whole ``def name(...)``) where ``name`` is defined in ``module``."""
    text = module.read_text()
    node = next(n for n in ast.parse(text).body if isinstance(n, ast.FunctionDef) and n.name == name)
    lines = text.splitlines(keepends=True)
    replacement = textwrap.dedent(source).strip() + "\n"
    assert f"def {name}(" in replacement, f"the hostile source must define {name}"
    module.write_text("".join(lines[:node.lineno - 1] + [replacement] + lines[node.end_lineno:]))


@pytest.fixture
def hostile(tmp_path):
    """``hostile(function, source)``: a submission folder, the reference with
    ``function`` replaced by ``source``."""
    def build(function, source):
        folder = tmp_path / "submission"
        shutil.copytree(SOLUTIONS, folder,
                        ignore=shutil.ignore_patterns("__pycache__", "executed", "*.ipynb", "selfcheck"))
        replace_function(folder / f"{FUNCTIONS[function]}.py", function, source)
        return folder
    return build


@pytest.fixture(scope="session")
def bubblewrap():
    launcher = sandbox.BubblewrapLauncher()
    if not launcher.works():
        pytest.fail("bubblewrap cannot build the sandbox here; run `make sandbox-tools` (as root) "
                    "or install the Debian package 'bubblewrap'")
    return launcher


@pytest.fixture(scope="session")
def reference_scores(bubblewrap):
    """{check name: score} of the untouched reference, graded in the sandbox."""
    result = grade_submission(SOLUTIONS, launcher=bubblewrap, timeout=TIMEOUT)
    scores = {o.check.name: o.score for o in result.outcomes}
    assert result.score == result.max_score, [o.output for o in result.outcomes if not o.passed]
    return scores


@pytest.fixture
def grade(bubblewrap):
    """Grade a folder in the sandbox (or with ``launcher``) with a short time limit."""
    def run(folder, launcher=None, timeout=TIMEOUT, **options):
        return grade_submission(folder, launcher=launcher or bubblewrap, timeout=timeout, **options)
    return run


def outputs_of(result, function):
    """The feedback of every check that exercises ``function``, joined."""
    return "\n".join(o.output for o in result.outcomes if function in o.check.tags)


def assert_honest_functions_kept_their_points(result, reference_scores, hostile_functions):
    """Every check that does not exercise a hostile function scores as the reference."""
    changed = {o.check.name: (o.score, reference_scores[o.check.name], o.output) for o in result.outcomes
               if not set(o.check.tags) & set(hostile_functions) and o.score != reference_scores[o.check.name]}
    assert not changed, f"honest checks lost points: {changed}"


def assert_hostile_function_earned_nothing(result, function):
    earned = {o.check.name: o.score for o in result.outcomes if function in o.check.tags and o.score}
    assert not earned, f"checks of {function} earned points: {earned}"


@pytest.fixture
def marker():
    """A string unique to this test, to find on the host any process started with it."""
    return f"{uuid.uuid4().int % 10 ** 8}.25"


def processes_with(marker, wait=2.0):
    """pids of host processes whose command line holds ``marker``, after giving
    killed processes up to ``wait`` seconds to disappear."""
    deadline = time.monotonic() + wait
    while True:
        found = []
        for entry in Path("/proc").iterdir():
            try:
                if entry.name.isdigit() and marker.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                pass
        found = [pid for pid in found if pid != os.getpid()]
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)
