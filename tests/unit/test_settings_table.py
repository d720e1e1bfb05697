"""The README's settings tables name every environment variable the code, the gunicorn
configurations, `make run` and docker-compose.yml read, and nothing else: a variable added without
its row, or a row left after its variable, fails here."""

from __future__ import annotations

import re
from pathlib import Path

import shared.settings

REPO = Path(__file__).resolve().parents[2]
PYTHON_SOURCES = ("authserver", "mcp_resource", "serving", "shared", "deploy", "migrations")
NAME = r"[A-Z][A-Z0-9_]+"
# Python: the settings reader's calls and os.environ, each by name or by a constant of shared/settings.py.
PYTHON_READS = (
    re.compile(rf"reader\.\w+\(\s*(?:\"({NAME})\"|({NAME}))"),
    re.compile(rf"os\.environ(?:\.get|\.setdefault|\.pop)?[\(\[]\s*(?:\"({NAME})\"|({NAME}))"),
)
# Shell and compose: ${NAME:-default} and ${NAME:?message}; a bare $NAME in scripts/run is its own.
INTERPOLATED = re.compile(rf"\$\{{({NAME})(?::?[-?])")
# Values compose sets for the services (they read them as settings) and secrets it passes on.
COMPOSE_SECRET_SOURCE = re.compile(rf"^\s+environment: ({NAME})$", re.M)
TABLE_ROW = re.compile(rf"^\| `({NAME})` \|", re.M)


def _name(match: re.Match[str]) -> str:
    quoted, constant = match.groups()
    return quoted or getattr(shared.settings, constant)


def variables_read() -> dict[str, set[str]]:
    """Each variable read, and the files reading it."""
    found: dict[str, set[str]] = {}
    for directory in PYTHON_SOURCES:
        for path in (REPO / directory).rglob("*.py"):
            text = path.read_text()
            for pattern in PYTHON_READS:
                for match in pattern.finditer(text):
                    found.setdefault(_name(match), set()).add(str(path.relative_to(REPO)))
    for relative in ("scripts/run", "docker-compose.yml"):
        text = (REPO / relative).read_text()
        for name in INTERPOLATED.findall(text) + COMPOSE_SECRET_SOURCE.findall(text):
            found.setdefault(name, set()).add(relative)
    return found


def documented() -> set[str]:
    return set(TABLE_ROW.findall((REPO / "README.md").read_text()))


def test_every_variable_read_has_a_row_in_the_readme():
    missing = {name: sorted(files) for name, files in variables_read().items() if name not in documented()}
    assert not missing, f"add a row to the README's settings tables for: {missing}"


def test_every_row_of_the_readme_is_a_variable_read_somewhere():
    assert documented() - set(variables_read()) == set()


def test_the_scan_finds_each_kind_of_read():
    """The patterns above still match what the code does: a setting, a gunicorn configuration's
    own variable, one set by a hook, `make run`'s port and a compose password."""
    read = variables_read()
    assert {"DRAWBRIDGE_ISSUER", "DRAWBRIDGE_MCP_WORKER_CONNECTIONS", "DRAWBRIDGE_SERVER_WORKERS", "DRAWBRIDGE_AUTH_PORT", "POSTGRES_PASSWORD"} <= set(read)
    assert "deploy/gunicorn_mcp.py" in read["PROMETHEUS_MULTIPROC_DIR"]
