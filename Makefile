# Instructor entry points for the batchnorm assignment. Every target runs inside
# .venv, which `make venv` creates from the pinned requirements.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SUBMISSIONS ?=
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: venv release solutions test grade clean

venv: $(STAMP)

$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	# The repository's packages (autograder, builder) are importable from the venv,
	# also from notebooks that nbgrader runs inside submission folders.
	echo "$(CURDIR)" > "$$($(PY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/batchnorm-course.pth"
	touch $@

release: venv
	$(PY) -m builder release

solutions: venv
	$(PY) -m builder solutions

test: venv
	$(PY) -m pytest

clean:
	rm -rf .build gradebook.db
