# The two commands of the README. Everything else is set up by them.
PYTHON ?= python3

.PHONY: run test

# `make run` gets the services only; `make test` also gets the test tools and the fixture tool
# package of the conformance suite, which must never reach a running deployment.
.venv/.installed: pyproject.toml
	$(PYTHON) -m venv .venv
	.venv/bin/pip install --quiet --upgrade pip
	.venv/bin/pip install --quiet -e .
	touch $@

.venv-test/.installed: pyproject.toml tests/conformance_tools/pyproject.toml
	$(PYTHON) -m venv .venv-test
	.venv-test/bin/pip install --quiet --upgrade pip
	.venv-test/bin/pip install --quiet -e ".[test]" -e tests/conformance_tools
	touch $@

run: .venv/.installed
	PATH="$(CURDIR)/.venv/bin:$$PATH" scripts/run

test: .venv-test/.installed
	.venv-test/bin/pytest $(PYTEST_ARGS)
