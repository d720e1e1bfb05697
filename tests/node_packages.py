"""The npm packages some tests run (axe-core, the conformance suite, the MCP Inspector), each
pinned by a lock file in its own test folder and installed there on first use."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.file_lock import exclusive


def ensure_installed(folder: Path, needed: Path) -> None:
    """`npm ci` in `folder` from its committed lock file, unless `needed` is there and the
    installation is as new as the lock file; test workers (pytest-xdist) take turns."""
    with exclusive(folder / ".npm-ci.lock"):
        marker = folder / "node_modules" / ".package-lock.json"
        if needed.exists() and marker.exists() and marker.stat().st_mtime >= (folder / "package-lock.json").stat().st_mtime:
            return
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=folder, check=True)
