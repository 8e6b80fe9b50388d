# The two commands a fresh machine needs: `make demo` and `make test`.
# Each creates its own virtualenv in .venv on first use; only Python 3.11+ is required.
# What it installs is exactly the committed lock (every package pinned, with its hashes):
# requirements-dev.lock for the demo and the tests, requirements.lock for a production worker.
# `make lock` is the one deliberate way to move to newer releases within pyproject.toml's ranges.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
LOCK   := requirements-dev.lock
# Two test processes for the two cores; tests that start Celery workers share one of them, in turn.
PYTEST_ARGS ?= -n 2 --dist loadgroup
DEMO_ARGS ?=
# A lock is resolved from the package index alone: a machine's own pip config (local wheel folders,
# extra indexes) must not leak into the pins or the hashes.
LOCK_ENV := PIP_CONFIG_FILE=/dev/null PIP_FIND_LINKS= PIP_EXTRA_INDEX_URL= PIP_CONSTRAINT=
COMPILE  := $(LOCK_ENV) $(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
            --no-emit-index-url --no-emit-find-links

.PHONY: demo test lint lock clean

$(STAMP): $(LOCK) requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/orderhub demo $(DEMO_ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

# Re-resolve both locks to the newest releases the ranges in pyproject.toml allow; commit the result.
lock: $(STAMP)
	$(COMPILE) --upgrade --output-file requirements.lock pyproject.toml
	$(COMPILE) --upgrade --extra dev --constraint requirements.lock --output-file $(LOCK) pyproject.toml

clean:
	rm -rf $(VENV) .orderhub .pytest_cache
