"""Processes: whatever a submission starts is gone when its grading ends, and it
cannot start more than the process limit."""
import os
import signal

from autograder.kit import runner
from autograder.sandbox import Limits

from .support import (
    assert_honest_functions_kept_their_points,
    assert_hostile_function_earned_nothing,
    outputs_of,
    processes_with,
)

FORK_BOMB = """
def zeros_init(fan_in, fan_out):
    import os
    children = 0
    try:
        while True:
            if os.fork() == 0:
                os.execv("/bin/sleep", ["sleep", "MARKER"])
            children += 1
    except OSError as err:
        raise RuntimeError(f"fork failed after {children} children: {err}")
"""

# Honest results, plus (on the first call) four processes meant to outlive grading:
# a subprocess in a new session, a plain one, and a double-forked daemon.
DAEMONS = """
def xavier_init(fan_in, fan_out, rng=None):
    if not STARTED:
        STARTED.append(True)
        start_daemons()
    if rng is None:
        rng = np.random.default_rng()
    return rng.standard_normal((fan_in, fan_out)) / np.sqrt(fan_in)


STARTED = []


def start_daemons():
    import os
    import subprocess
    subprocess.Popen(["sleep", "MARKER"], start_new_session=True, stdin=subprocess.DEVNULL,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.Popen(["sleep", "MARKER"])
    first = os.fork()
    if first == 0:
        os.setsid()
        if os.fork() == 0:
            os.execv("/bin/sleep", ["sleep", "MARKER"])
        os._exit(0)
    os.waitpid(first, 0)
"""

KILL_EVERYTHING = """
def zero_centered(X):
    import os
    import signal
    killed = []
    for pid in range(1, 1 << 16):
        if pid != os.getpid():
            try:
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            except OSError:
                pass
    try:
        os.kill(-1, signal.SIGKILL)
    except OSError:
        pass
    raise RuntimeError(f"killed {len(killed)} processes")
"""


def test_a_fork_bomb_stops_at_the_process_limit_and_leaves_nothing_behind(hostile, grade, reference_scores, marker):
    result = grade(hostile("zeros_init", FORK_BOMB.replace("MARKER", marker)))
    assert_hostile_function_earned_nothing(result, "zeros_init")
    output = outputs_of(result, "zeros_init")
    assert "fork failed after" in output, output
    children = int(output.split("fork failed after ")[1].split()[0])
    assert children < Limits().processes
    assert processes_with(marker) == []
    assert_honest_functions_kept_their_points(result, reference_scores, ["zeros_init"])


def test_daemons_and_subprocesses_are_gone_when_grading_ends(hostile, grade, reference_scores, marker):
    result = grade(hostile("xavier_init", DAEMONS.replace("MARKER", marker)))
    assert processes_with(marker) == []
    # The function's answers are right; starting processes is not what it is graded on.
    assert_honest_functions_kept_their_points(result, reference_scores, [])


def test_without_the_sandbox_those_daemons_would_survive(hostile, grade, marker):
    """The control for the test above: the daemons are real, and the search finds them."""
    grade(hostile("xavier_init", DAEMONS.replace("MARKER", marker)), launcher=runner.Launcher())
    survivors = processes_with(marker, wait=0)
    for pid in survivors:
        os.kill(pid, signal.SIGKILL)
    assert len(survivors) >= 2  # the new session and the double fork escape the process group


def test_killing_every_process_in_sight_kills_nothing_outside(hostile, grade, reference_scores):
    # Outside a PID namespace, as root, this would take the machine down: never run it without one.
    result = grade(hostile("zero_centered", KILL_EVERYTHING))
    assert_hostile_function_earned_nothing(result, "zero_centered")
    assert "killed 0 processes" in outputs_of(result, "zero_centered")
    assert_honest_functions_kept_their_points(result, reference_scores, ["zero_centered", "data_preprocess"])
