# The two commands a newcomer needs: `make run` (the whole local stack) and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint demo bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)  ## start Temporal dev server + UI, migrations, worker and API
	$(BIN)/keycase up

demo: $(STAMP)  ## the stack with the fast demo policy, plus a spread of alerts on five exchanges
	$(BIN)/keycase up --demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

test: lint  ## lint, type-check and run every test
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .keycase .pytest_cache .mypy_cache .ruff_cache
