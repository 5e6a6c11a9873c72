# Instructor entry points for the batchnorm assignment. Every target runs inside
# .venv, which `make venv` creates from the pinned requirements.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SUBMISSIONS ?=
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: venv release solutions test grade gradescope bench clean

venv: $(STAMP)

$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	# The repository's packages (autograder, builder) are importable from the venv,
	# also from notebooks that nbgrader runs inside submission folders.
	echo "$(CURDIR)" > "$$($(PY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/batchnorm-course.pth"
	touch $@

# The public self-check's stored answers are recorded from the reference first.
release: venv
	$(PY) -m autograder record
	$(PY) -m builder release

solutions: venv
	$(PY) -m autograder record
	$(PY) -m builder solutions

# With no SUBMISSIONS, grade the demo class; results and feedback go to grades/.
grade: venv
ifeq ($(strip $(SUBMISSIONS)),)
	$(PY) -m autograder demo --out grades/demo
else
	$(PY) -m autograder grade $(SUBMISSIONS) --out grades/latest --jobs 2
endif

# Gradescope's autograder.zip; HIDDEN_VISIBILITY (default after_due_date) is baked in.
HIDDEN_VISIBILITY ?= after_due_date
gradescope: venv
	$(PY) -m autograder.gradescope build --out autograder.zip --hidden-visibility $(HIDDEN_VISIBILITY)

bench: venv
	$(PY) -m benchmarks --write docs/benchmarks.md

test: venv
	$(PY) -m pytest

clean:
	rm -rf .build gradebook.db grades autograder.zip
