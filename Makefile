# Instructor entry points for the course's assignments. Every target runs inside
# .venv, which `make venv` creates from the pinned requirements.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SUBMISSIONS ?=
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: venv sandbox-tools release solutions test test-fast lint grade gradescope prairielearn bench clean

venv: $(STAMP) sandbox-tools

# bubblewrap confines student code while it is graded (docs/sandbox.md). As root (CI,
# containers) it is installed when missing; other users install the Debian package
# 'bubblewrap' themselves, or the grader falls back to resource limits only.
sandbox-tools:
	@command -v bwrap >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  { DEBIAN_FRONTEND=noninteractive apt-get install -y -q bubblewrap >/dev/null 2>&1 || \
	    { apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q bubblewrap >/dev/null; }; }; } || \
	  echo "note: bubblewrap (bwrap) is not installed, so grading falls back to resource limits only; see docs/sandbox.md"

$(STAMP): requirements.txt requirements-dask.txt pyproject.toml
	@echo "Installing the pinned packages of requirements.txt into $(VENV)/ (numpy, scipy, scikit-learn,"
	@echo "matplotlib, Jupyter, nbgrader, pytest, ruff, Dask (requirements-dask.txt) and their dependencies:"
	@echo "about 130 packages);"
	@echo "this usually takes 2-3 minutes, once."
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt -r requirements-dask.txt
	# This project (pyproject.toml: the autograder, builder and benchmarks packages and the
	# `autograder` command), installed in place so that edits take effect at once.
	rm -f "$$($(PY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/batchnorm-course.pth"
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation --editable .
	touch $@

# The public self-checks' stored answers are recorded from the references first; every
# assignment of assignment/ is built.
release: venv
	$(PY) -m autograder record
	$(PY) -m builder release

# Also writes executed copies of the solution notebooks (git-ignored) for instructors.
solutions: venv
	$(PY) -m autograder record
	$(PY) -m builder solutions
	$(PY) -m builder.execute

# With no SUBMISSIONS, grade the demo class; results and feedback go to grades/ASSIGNMENT/.
# SUBMISSIONS takes submission folders, class folders, nbgrader's submitted/, a
# Gradescope export or zips (`make grade SUBMISSIONS=submitted` grades an nbgrader class);
# ASSIGNMENT names the assignment (default batchnorm).
ASSIGNMENT ?= batchnorm
grade: venv
ifeq ($(strip $(SUBMISSIONS)),)
	$(PY) -m autograder demo --assignment $(ASSIGNMENT) --out grades/$(ASSIGNMENT)/demo
else
	$(PY) -m autograder grade $(SUBMISSIONS) --assignment $(ASSIGNMENT) --out grades/$(ASSIGNMENT)/latest --jobs 2
endif

# Gradescope's autograder, autograder-ASSIGNMENT.zip (one per assignment, so that one never
# overwrites the other); HIDDEN_VISIBILITY (default after_due_date) is baked in.
HIDDEN_VISIBILITY ?= after_due_date
gradescope: venv
	$(PY) -m autograder.gradescope build --assignment $(ASSIGNMENT) --out autograder-$(ASSIGNMENT).zip \
	  --hidden-visibility $(HIDDEN_VISIBILITY)

# PrairieLearn's question folder (prairielearn/NAME/questions/NAME: info.json, question.html,
# the grader in tests/) and the image it grades in (prairielearn/NAME/image/Dockerfile);
# PL_IMAGE is the name info.json gives the image, as the course pushes it.
PL_IMAGE ?= batchnorm-course/autograder
prairielearn: venv
	$(PY) -m autograder.prairielearn build --assignment $(ASSIGNMENT) --out prairielearn/$(ASSIGNMENT) \
	  --image $(PL_IMAGE) --hidden-visibility $(HIDDEN_VISIBILITY)

bench: venv
	$(PY) -m benchmarks --write docs/benchmarks.md

# The whole suite (what CI runs); test-fast leaves out the notebook and nbgrader tests.
test: venv
	$(PY) -m pytest -n 2 --dist loadfile

test-fast: venv
	$(PY) -m pytest -n 2 --dist loadfile -m "not slow"

lint: venv
	$(PY) -m ruff check .

# Only what a make target or a test run regenerates. Never nbgrader's state (submitted/,
# autograded/, feedback/, gradebook.db: it holds manual grades), release/ or solutions/.
clean:
	rm -rf .build grades autograder.zip autograder-*.zip prairielearn .pytest_cache .ruff_cache solutions/*/executed solutions/*/.executed.*
