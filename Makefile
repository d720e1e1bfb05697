# The two commands of the README, and the benches' environment (bench/README.md).
PYTHON ?= python3

.PHONY: run test bench-env tls lock

# `make run` gets the services only; `make test` also gets the test tools, the fixture tool
# package of the conformance suite and the example tool package (docs/integrate.md), which must
# never reach a running deployment.
.venv/.installed: pyproject.toml
	$(PYTHON) -m venv .venv
	.venv/bin/pip install --quiet --upgrade pip
	.venv/bin/pip install --quiet -e .
	touch $@

.venv-test/.installed: pyproject.toml tests/conformance_tools/pyproject.toml examples/weather_tools/pyproject.toml
	$(PYTHON) -m venv .venv-test
	.venv-test/bin/pip install --quiet --upgrade pip
	.venv-test/bin/pip install --quiet -e ".[test]" -e tests/conformance_tools -e examples/weather_tools
	touch $@

# The benches run on an optimized CPython, as a deployment does (the Docker image's is built with PGO
# and LTO). Debian's /usr/bin/python3.11 is one (apt-get install python3.11-venv); pyenv's default
# build is not. bench/README.md has the commands and the figures.
BENCH_PYTHON ?= /usr/bin/python3.11

.venv-bench/.installed: pyproject.toml
	$(BENCH_PYTHON) -m venv .venv-bench
	.venv-bench/bin/pip install --quiet --upgrade pip
	.venv-bench/bin/pip install --quiet -e ".[bench]"
	touch $@

bench-env: .venv-bench/.installed

run: .venv/.installed
	PATH="$(CURDIR)/.venv/bin:$$PATH" scripts/run

# The linter and the type checker first (mypy reads its files from pyproject.toml): seconds, where
# the suite takes minutes. The suite runs in TEST_WORKERS processes (pytest-xdist), a test file
# each at a time, so a module's fixtures are made once.
TEST_WORKERS ?= 2

test: .venv-test/.installed
	.venv-test/bin/ruff check . && .venv-test/bin/mypy && .venv-test/bin/pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

# A self-signed certificate for https://localhost:8443, the proxy of docker-compose.yml
# (deploy/proxy.conf): ECDSA P-256, a year, for localhost, 127.0.0.1 and ::1. Made once; delete
# deploy/tls/ to make another. A real certificate: put its chain and key there as cert.pem and key.pem.
TLS_DIR ?= deploy/tls

tls: $(TLS_DIR)/cert.pem

$(TLS_DIR)/cert.pem:
	mkdir -p $(TLS_DIR)
	(umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out $(TLS_DIR)/key.pem)
	openssl req -x509 -key $(TLS_DIR)/key.pem -days 365 -subj /CN=localhost \
		-addext "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1" -out $@

# requirements.lock: the Docker image's dependencies, each pinned with its hashes, and setuptools to
# build with (pip-tools, for the image's CPython 3.11 on Linux). After changing pyproject.toml's
# dependencies run `make lock` (tests/unit/test_lock.py fails until the two agree).
lock:
	$(PYTHON) -m venv .venv-lock
	.venv-lock/bin/pip install --quiet --upgrade pip pip-tools
	.venv-lock/bin/pip-compile --quiet --generate-hashes --allow-unsafe --all-build-deps --strip-extras \
		--no-emit-index-url --no-emit-find-links --output-file requirements.lock pyproject.toml
