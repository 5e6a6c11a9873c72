"""Network: none, not even the grader's own loopback."""
import socket
import threading

from autograder.kit import runner

from .support import assert_honest_functions_kept_their_points, assert_hostile_function_earned_nothing

PHONE_HOME = """
def normalized(X):
    import socket
    report = []
    attempts = {"grader's loopback": ("127.0.0.1", @PORT@), "outside": ("1.1.1.1", 53)}
    for name, address in attempts.items():
        try:
            socket.create_connection(address, timeout=0.5).close()
            report.append(f"{name}: connected")
        except OSError as err:
            report.append(f"{name}: {type(err).__name__}")
    try:
        socket.getaddrinfo("example.com", 80)
        report.append("dns: resolved")
    except OSError as err:
        report.append(f"dns: {type(err).__name__}")
    raise RuntimeError("; ".join(report))
"""


class Listener:
    """A TCP server on the grader's loopback that counts connections."""

    def __init__(self):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port, self.connections = self.server.getsockname()[1], 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            self.connections += 1
            connection.close()

    def close(self):
        self.server.close()


def report_of(result):
    return next(o.output for o in result.outcomes if "normalized" in o.check.tags)


def test_no_connection_leaves_the_sandbox(hostile, grade, reference_scores):
    listener = Listener()
    try:
        result = grade(hostile("normalized", PHONE_HOME.replace("@PORT@", str(listener.port))))
    finally:
        listener.close()
    assert listener.connections == 0
    report = report_of(result)
    assert "connected" not in report and "resolved" not in report, report
    assert_hostile_function_earned_nothing(result, "normalized")
    assert_honest_functions_kept_their_points(result, reference_scores, ["normalized", "data_preprocess"])


def test_without_the_sandbox_the_grader_is_reachable(hostile, grade):
    """The control for the test above: the attempt is real."""
    listener = Listener()
    try:
        result = grade(hostile("normalized", PHONE_HOME.replace("@PORT@", str(listener.port))),
                       launcher=runner.Launcher())
    finally:
        listener.close()
    assert "grader's loopback: connected" in report_of(result) and listener.connections > 0
