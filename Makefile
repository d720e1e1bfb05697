# The two commands of the README. Everything else is set up by them.
VENV ?= .venv
PYTHON ?= python3

.PHONY: run test

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e ".[test]"
	touch $@

run: $(VENV)/.installed
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" scripts/run

test: $(VENV)/.installed
	$(VENV)/bin/pytest $(PYTEST_ARGS)
