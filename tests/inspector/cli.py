"""The MCP Inspector's CLI (`@modelcontextprotocol/inspector --cli`), pinned, with its own Node 22."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from tests import node_packages

HERE = Path(__file__).resolve().parent
NODE = HERE / "node_modules" / ".bin" / "node"
LAUNCHER = HERE / "node_modules" / "inspector" / "clients" / "launcher" / "build" / "index.js"
TIMEOUT_SECONDS = 60


def ensure_installed() -> None:
    node_packages.ensure_installed(HERE, NODE)


def run(home: Path, url: str, token: str, era: str, method: str, *args: str) -> subprocess.CompletedProcess[str]:
    """One method through the CLI, with the token as a bearer header and never an interactive login;
    its catalog and stored state under `home`, not the user's."""
    command = [
        str(NODE), str(LAUNCHER), "--cli", "--server-url", url, "--transport", "http",
        "--header", f"Authorization: Bearer {token}", "--stored-auth-only", "--protocol-era", era,
        "--format", "json", "--quiet", "--method", method, *args,
    ]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, env={"HOME": str(home), "PATH": "/usr/bin:/bin"})


def result(answer: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """The method's result, as `--format json` prints it."""
    assert answer.returncode == 0, f"exit {answer.returncode}:\n{answer.stdout[-2000:]}\n{answer.stderr[-2000:]}"
    found: dict[str, Any] = json.loads(answer.stdout)["result"]
    return found
