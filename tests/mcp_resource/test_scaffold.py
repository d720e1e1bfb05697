"""`drawbridge tools new NAME`: a package skeleton that installs, and whose tool Drawbridge finds."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from shared.cli import cli, create_cli_app

BIN = Path(sys.executable).parent


def test_the_skeleton_installs_and_its_tool_passes_lint(settings, tmp_path: Path):
    made = create_cli_app(settings).test_cli_runner().invoke(cli, ["tools", "new", "acme", "--directory", str(tmp_path)])
    # Installed beside the test venv's packages (a --target directory on PYTHONPATH), not into it.
    site = tmp_path / "site"
    subprocess.run(
        [str(BIN / "pip"), "install", "--quiet", "--no-deps", "--target", str(site), str(tmp_path / "acme")],
        check=True,
        capture_output=True,
    )
    env = {**os.environ, "PYTHONPATH": str(site), "DRAWBRIDGE_TOOLS_PAYLOAD_BUDGET_BYTES": "1000000"}
    linted = subprocess.run([str(BIN / "drawbridge"), "tools", "lint"], env=env, capture_output=True, text=True)

    assert made.exit_code == 0, made.output
    assert linted.returncode == 0, linted.stdout + linted.stderr
    assert "acme_echo: description" in linted.stdout
    assert "scope acme:read: 1 tools" in linted.stdout


def test_a_name_that_is_no_package_name_or_exists_is_refused(settings, tmp_path: Path):
    runner = create_cli_app(settings).test_cli_runner()
    (tmp_path / "taken").mkdir()

    invalid = runner.invoke(cli, ["tools", "new", "Acme-Tools", "--directory", str(tmp_path)])
    taken = runner.invoke(cli, ["tools", "new", "taken", "--directory", str(tmp_path)])

    assert invalid.exit_code == 2
    assert "'Acme-Tools' is not a package name" in invalid.output
    assert taken.exit_code == 2
    assert "exists already" in taken.output
    assert list((tmp_path / "taken").iterdir()) == []
