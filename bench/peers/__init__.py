"""The peers a user would pick instead of Drawbridge, installed from the registries on first use:
the MCP Python SDK in its own virtualenv (.venv-sdk-peer), panva oidc-provider with its own Node 22."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from bench.common import REPO

VENV = REPO / ".venv-sdk-peer"
SDK_REQUIREMENTS = ["mcp==2.3.0", "uvicorn==0.54.0"]
OIDC_PROVIDER = Path(__file__).resolve().parent / "oidc_provider"


def setup() -> None:
    """Idempotent: a virtualenv with the pinned SDK on the interpreter running the bench (rebuilt when
    that changes, so both Python servers always run on the same build), and `npm ci` of the pinned
    oidc-provider. Their output goes to stderr, so a bench's stdout stays one JSON document."""
    if (VENV / "bin" / "python").exists() and interpreter(VENV / "bin" / "python") != sys.version:
        shutil.rmtree(VENV)
    if not (VENV / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(VENV / "bin" / "pip"), "install", "-q", *SDK_REQUIREMENTS], check=True, stdout=sys.stderr)
    if not (OIDC_PROVIDER / "node_modules" / ".bin" / "node").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=OIDC_PROVIDER, check=True, stdout=sys.stderr)


def interpreter(python: Path) -> str:
    """The version and build of the CPython behind a virtualenv's python (its `sys.version`)."""
    return subprocess.run([str(python), "-c", "import sys; print(sys.version)"], capture_output=True, text=True, check=True).stdout.strip()


def sdk_command() -> list[str]:
    return [str(VENV / "bin" / "python"), str(Path(__file__).resolve().parent / "sdk_echo.py")]


def oidc_provider_command() -> list[str]:
    return [str(OIDC_PROVIDER / "node_modules" / ".bin" / "node"), str(OIDC_PROVIDER / "server.mjs")]


def versions() -> dict[str, str]:
    def pip_version(python: Path, package: str) -> str:
        code = f"from importlib.metadata import version; print(version('{package}'))"
        return subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True).stdout.strip()

    lock = json.loads((OIDC_PROVIDER / "package-lock.json").read_text())["packages"]
    node = subprocess.run([oidc_provider_command()[0], "--version"], capture_output=True, text=True, check=True).stdout.strip()
    own = Path(sys.executable)
    return {
        "mcp (SDK peer)": pip_version(VENV / "bin" / "python", "mcp"),
        "uvicorn (SDK peer)": pip_version(VENV / "bin" / "python", "uvicorn"),
        "oidc-provider": lock["node_modules/oidc-provider"]["version"],
        "node (oidc-provider)": node,
        "flask": pip_version(own, "flask"),
        "gunicorn": pip_version(own, "gunicorn"),
        "gevent": pip_version(own, "gevent"),
        "authlib": pip_version(own, "authlib"),
    }
