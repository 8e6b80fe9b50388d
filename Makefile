# The two commands a fresh machine needs: `make demo` and `make test`.
# Each creates its own virtualenv in .venv on first use; only Python 3.11+ is required.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Two test processes for the two cores; tests that start Celery workers share one of them, in turn.
PYTEST_ARGS ?= -n 2 --dist loadgroup

.PHONY: demo test lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/orderhub demo

test: $(STAMP)
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) .orderhub .pytest_cache
