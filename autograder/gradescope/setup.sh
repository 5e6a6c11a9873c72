#!/usr/bin/env bash
# Gradescope runs this once, as root, while it builds the autograder's image; the
# zip is unpacked in /autograder/source. It installs bubblewrap (the sandbox that
# confines student code), a Python of at least 3.11, and the pinned packages that
# grading needs into /autograder/venv, which run_autograder uses.
set -euo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
SOURCE="$(cd "$(dirname "$0")" && pwd)"
export DEBIAN_FRONTEND=noninteractive

apt-get update
apt-get install -y --no-install-recommends bubblewrap ca-certificates
if python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    PYTHON=python3
    # Ubuntu's python3 cannot create a venv without python3-venv.
    apt-get install -y --no-install-recommends python3-venv
else
    # Ubuntu 22.04 ships 3.10; its universe component has 3.11.
    apt-get install -y --no-install-recommends python3.11 python3.11-venv
    PYTHON=python3.11
fi

# umask 022: the venv readable by all, so that the fallback sandbox's uid can run it.
umask 022
"$PYTHON" -m venv "$ROOT/venv"
"$ROOT/venv/bin/python" -m pip install --no-cache-dir --disable-pip-version-check -r "$SOURCE/requirements.txt"
# Fail the image build now, not every submission later, if the grader cannot grade
# the reference solution here; the log shows which protections the sandbox has.
cd "$SOURCE"
"$ROOT/venv/bin/python" - <<'PYTHON'
from autograder.assignments import load
from autograder.grade import grade_submission

graded = load()
result = grade_submission(graded.master, assignment=graded)
print("sandbox protections on this image:", "; ".join(result.protections))
assert result.score == result.max_score, f"the reference scores {result.score} of {result.max_score} here {result.error}"
PYTHON
