"""Install the pinned conformance suite (with its own Node 22) and run scenarios against a URL."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests import node_packages

HERE = Path(__file__).resolve().parent
NODE = HERE / "node_modules" / ".bin" / "node"
PACKAGES = {"0.1": "conformance-0.1", "0.2": "conformance-0.2"}
SCENARIO_TIMEOUT_SECONDS = 120


def ensure_installed() -> None:
    node_packages.ensure_installed(HERE, NODE)


@dataclass(frozen=True)
class Check:
    scenario: str
    id: str
    status: str
    description: str
    error: str
    spec: str


def _command(line: str, command: str, output_dir: Path, args: tuple[str, ...]) -> list[str]:
    entry = HERE / "node_modules" / PACKAGES[line] / "dist" / "index.js"
    return [str(NODE), str(entry), command, *args, "--output-dir", str(output_dir)]


def run(line: str, command: str, output_dir: Path, *args: str) -> tuple[list[Check], str]:
    """Run one suite command; return every check it recorded and the suite's own output."""
    process = subprocess.run(
        _command(line, command, output_dir, args), capture_output=True, text=True, timeout=SCENARIO_TIMEOUT_SECONDS
    )
    return collect(output_dir), process.stdout + process.stderr


def start(line: str, command: str, output_dir: Path, *args: str) -> subprocess.Popen[str]:
    """Start a suite command that waits for something (a person at the authorization URL)."""
    return subprocess.Popen(_command(line, command, output_dir, args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def collect(output_dir: Path) -> list[Check]:
    """Every check the suite wrote under `output_dir`."""
    return [
        Check(
            scenario=path.parent.name,
            id=item.get("id", ""),
            status=item.get("status", ""),
            description=item.get("description", ""),
            error=item.get("errorMessage") or "",
            spec=" ".join(ref.get("url", "") for ref in item.get("specReferences") or []),
        )
        for path in sorted(output_dir.rglob("checks.json"))
        for item in json.loads(path.read_text())
    ]


def describe_failures(checks: list[Check]) -> str:
    return "\n".join(f"- {c.scenario} / {c.id}: {c.error or c.description} (spec: {c.spec})" for c in checks if c.status == "FAILURE")
