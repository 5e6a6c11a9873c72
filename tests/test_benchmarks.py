"""The benchmark command runs end to end in its quick mode and reports every part.
Its numbers are not checked against targets: they describe a machine, not the code."""
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_quick_benchmark_reports_every_part(tmp_path):
    report = tmp_path / "benchmarks.md"
    done = subprocess.run([sys.executable, "-m", "benchmarks", "--quick", "--no-nbgrader", "--write", str(report)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    text = report.read_text()
    for heading in ("Targets", "One submission", "A call to the child", "Starting a child",
                    "Grading time per submission, by assignment", "Classes",
                    "nbgrader autograde vs. the command line", "Sandbox overhead",
                    "Batch norm: staged backward vs. backward_alt (float64)",
                    "Gradient checks: directional vs. full centred differences"):
        assert f"\n## {heading}\n" in text
    assert "| CPU |" in text and "| Python |" in text
    assert re.search(r"^\| a bubblewrap sandbox per child \(`BubblewrapLauncher`\) \| [\d.]+ ms \| [\d.]+x \|$",
                     text, re.M)
    # Every class size ran with 1 and 2 jobs and wrote one result per submission.
    runs = re.findall(r"^\| (\d+) \| (\d) \| [\d.]+ m?s \|", text, re.M)
    assert runs == [("3", "1"), ("3", "2"), ("6", "1"), ("6", "2")]
    verdicts = dict(re.findall(r"^\| (.+?) \| .+? \| \*\*(.+?)\*\* \|$", text, re.M))
    assert verdicts["command line at least 4x faster per submission than nbgrader autograde"] == "not measured"
    assert verdicts["a class of 500 in at most 45 s with 2 jobs"] in ("met", "NOT met")
    assert verdicts["2 jobs at least 1.8x faster than 1 job on a class of 200"] in ("met", "NOT met")
    assert re.search(r"^\| 6 \| 2 \| .* \| [\d.]+ MiB \| [\d.]+ MiB \|$", text, re.M)  # peak memory recorded
    # The closed form and the staged backward agree, and both gradient checks ran on both sizes.
    assert text.count("both give the same dx, dgamma, dbeta (largest difference") == 2
    assert len(re.findall(r"^\| (16, 32|64, 128) \| ", text, re.M)) == 4
    assert "bn-backward-missing-mean-path" in text
    # Every assignment of the course is timed, side by side.
    assert re.search(r"^\| `batchnorm` \| \d+ \(65\) \| ", text, re.M)
    assert re.search(r"^\| `normalization` \| \d+ \(74\) \| ", text, re.M)
