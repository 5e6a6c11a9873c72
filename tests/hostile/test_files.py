"""Files: the child sees only the Python runtime, numpy, the runner, its copy of
the submission and a private /tmp; it can read no solution and write nowhere else."""
import json
import re
import sys
import time
from pathlib import Path

from autograder.classroom import grade_class
from autograder.kit import runner

from .support import (
    ROOT,
    SOLUTIONS,
    assert_honest_functions_kept_their_points,
    assert_hostile_function_earned_nothing,
    outputs_of,
)

# Looks for a filled-in batchnorm_forward where the course keeps one, then on the
# whole disk, and uses the first it finds; says what it saw when it finds none.
STEAL_THE_SOLUTION = """
def batchnorm_forward(x, gamma, beta, bn_param):
    import importlib.util
    import os
    import re

    def filled_in(path):
        try:
            with open(path) as source:
                return re.search(r"^\\s+running_mean = momentum \\*", source.read(), re.M) is not None
        except OSError:
            return False

    def candidates():
        for path in KNOWN_PLACES:
            yield path
        for top, folders, files in os.walk("/"):
            folders[:] = [f for f in folders if os.path.join(top, f) not in ("/proc", "/sys", "/dev")]
            for name in files:
                if name == "batchnorm.py":
                    yield os.path.join(top, name)

    if not LOOT:
        mine = os.path.realpath(__file__)
        LOOT.append(next((p for p in candidates() if os.path.realpath(p) != mine and filled_in(p)), None))
    if LOOT[0]:
        spec = importlib.util.spec_from_file_location("stolen", LOOT[0])
        stolen = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(stolen)
        return stolen.batchnorm_forward(x, gamma, beta, bn_param)
    repo = sorted(os.listdir(REPO)) if os.path.isdir(REPO) else "absent"
    raise RuntimeError(f"no filled-in batchnorm anywhere; the repository folder holds {repo}")


LOOT = []  # the search runs once per process
KNOWN_PLACES = @PLACES@
REPO = "@ROOT@"
"""

WRITE_OUTSIDE = """
def zeros_init(fan_in, fan_out):
    import os
    report = []
    for path in @TARGETS@:
        try:
            with open(path, "w") as target:
                target.write("pwned")
            report.append(f"{path}: written")
        except OSError as err:
            report.append(f"{path}: {type(err).__name__}")
    raise RuntimeError("; ".join(report))
"""

# Writes a perfect results file where the grader or Gradescope might read one, now
# and again from a process that outlives the call.
FAKE_RESULTS = """
def he_init(fan_in, fan_out, rng=None):
    import json
    import os
    import time
    fake = json.dumps({"score": 1000, "tests": []})

    def forge():
        for path in @TARGETS@:
            try:
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "w") as target:
                    target.write(fake)
            except OSError:
                pass
    forge()
    if os.fork() == 0:
        os.setsid()
        time.sleep(1.0)
        forge()
        os._exit(0)
    raise RuntimeError("forged")
"""


def steal(hostile):
    folders = (SOLUTIONS, ROOT / "assignment" / "batchnorm", ROOT / "release" / "batchnorm",
               ROOT / ".build" / "demo" / "reference-solution")
    places = [str(p / "batchnorm.py") for p in folders]
    source = STEAL_THE_SOLUTION.replace("@PLACES@", repr(places)).replace("@ROOT@", str(ROOT))
    return hostile("batchnorm_forward", source)


def test_a_submission_that_searches_the_disk_for_the_solution_finds_nothing(hostile, grade, reference_scores):
    result = grade(steal(hostile), timeout=30)  # walking the whole visible disk takes a few seconds
    assert_hostile_function_earned_nothing(result, "batchnorm_forward")
    output = outputs_of(result, "batchnorm_forward")
    assert "no filled-in batchnorm anywhere" in output, output
    # Of the repository, only the interpreter's venv (when it lives there) is visible.
    visible = re.search(r"the repository folder holds (.*) \(batchnorm\.py, line", output).group(1)
    venv = Path(sys.prefix)
    assert visible in ("absent", str([venv.name] if venv.parent == ROOT else []))
    assert_honest_functions_kept_their_points(result, reference_scores,
                                              ["batchnorm_forward"])


def test_without_the_sandbox_the_same_submission_steals_full_marks(hostile, grade, reference_scores):
    """The control for the test above: the thief works when nothing stops it."""
    result = grade(steal(hostile), launcher=runner.Launcher())
    assert result.score == sum(reference_scores.values())


def test_a_submission_cannot_write_outside_its_scratch(hostile, grade, reference_scores, tmp_path, marker):
    outside = tmp_path / "outside"
    outside.mkdir()
    targets = [outside / "pwned", ROOT / f"pwned-{marker}", SOLUTIONS / f"pwned-{marker}",
               Path(runner.__file__).parent / f"pwned-{marker}", Path(sys.prefix) / f"pwned-{marker}",
               Path("/usr") / f"pwned-{marker}", Path("/submission") / f"pwned-{marker}",
               Path("/tmp") / f"pwned-{marker}"]
    result = grade(hostile("zeros_init", WRITE_OUTSIDE.replace("@TARGETS@", repr([str(t) for t in targets]))))
    assert_hostile_function_earned_nothing(result, "zeros_init")
    report = next(o.output for o in result.outcomes if "zeros_init" in o.check.tags)
    # Only the private /tmp takes the write, and it vanishes with the sandbox.
    assert f"/tmp/pwned-{marker}: written" in report
    assert report.count(": written") == 1, report
    assert [t for t in targets if t.exists()] == []
    assert_honest_functions_kept_their_points(result, reference_scores, ["zeros_init"])


def test_a_fake_results_file_earns_nothing_and_the_real_results_stay(hostile, bubblewrap, reference_scores,
                                                                      tmp_path, monkeypatch):
    out, workdir = tmp_path / "out", tmp_path / "workdir"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    targets = [str(out / "submission.json"), str(out / "summary.json"), str(out / "grades.csv"),
               str(workdir / "results.json"), "results.json", "/autograder/results/results.json"]
    folder = hostile("he_init", FAKE_RESULTS.replace("@TARGETS@", repr(targets)))
    [result] = grade_class([folder], out=out, progress=False, launcher=bubblewrap, timeout=1.5)
    written = {path.name: path.read_text() for path in out.iterdir()}
    time.sleep(1.5)  # the forger's delayed attempt, had it survived
    assert {path.name: path.read_text() for path in out.iterdir()} == written
    assert json.loads(written["submission.json"])["score"] == result.score
    assert_hostile_function_earned_nothing(result, "he_init")
    assert_honest_functions_kept_their_points(result, reference_scores, ["he_init"])
    assert not (workdir / "results.json").exists() and not Path("/autograder/results/results.json").exists()
