"""Fixtures of the hostile-submission tests (helpers are in support.py)."""
import os
import uuid

import pytest

from autograder import sandbox
from autograder.grade import grade_submission

from .support import SOLUTIONS, TIMEOUT, build_submission


@pytest.fixture
def hostile(tmp_path):
    """``hostile(function, source)``: a submission folder, the reference with
    ``function`` replaced by ``source``."""
    return lambda function, source: build_submission(tmp_path / "submission", function, source)


@pytest.fixture(scope="session", params=["bubblewrap", "forked"])
def bubblewrap(request):
    """Each attack runs against both bubblewrap launchers: a sandbox per child, and
    (the default as root) children forked in a kept sandbox."""
    if not sandbox.BubblewrapLauncher().works():
        pytest.fail("bubblewrap cannot build the sandbox here; run `make sandbox-tools` (as root) "
                    "or install the Debian package 'bubblewrap'")
    if request.param == "bubblewrap":
        return sandbox.BubblewrapLauncher()
    if os.geteuid() != 0:
        pytest.skip("the forked sandbox needs a grader that is root")
    return sandbox.ForkedLauncher()


@pytest.fixture(scope="session")
def reference_scores(bubblewrap):
    """{check name: score} of the untouched reference, graded in the sandbox."""
    result = grade_submission(SOLUTIONS, launcher=bubblewrap, timeout=TIMEOUT)
    assert result.score == result.max_score, [o.output for o in result.outcomes if not o.passed]
    return {o.check.name: o.score for o in result.outcomes}


@pytest.fixture
def grade(bubblewrap):
    """Grade a folder in the sandbox (or with ``launcher``) with a short time limit."""
    def run(folder, launcher=None, timeout=TIMEOUT, **options):
        return grade_submission(folder, launcher=launcher or bubblewrap, timeout=timeout, **options)
    return run


@pytest.fixture
def marker():
    """A string unique to this test, to find on the host any process started with it."""
    return f"{uuid.uuid4().int % 10 ** 8}.25"
