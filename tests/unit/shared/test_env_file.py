"""`drawbridge --env-file FILE` (Flask's option, read with python-dotenv) sets the command's
settings from FILE; a variable already in the environment wins over the file's."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

DRAWBRIDGE = Path(sys.executable).parent / "drawbridge"


def drawbridge(*args: str, cwd: Path, **environment: str) -> subprocess.CompletedProcess[str]:
    """The command as an operator runs it, with none of this process's Drawbridge variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRAWBRIDGE_") and k not in ("DATABASE_URL", "REDIS_URL")}
    return subprocess.run([str(DRAWBRIDGE), *args], cwd=cwd, env={**env, **environment}, capture_output=True, text=True, timeout=120)


def tables(database: Path) -> set[str]:
    with sqlite3.connect(database) as connection:
        return {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def test_the_env_file_s_database_is_the_one_migrated(tmp_path):
    database = tmp_path / "from-the-file.sqlite3"
    env_file = tmp_path / "drawbridge.env"
    env_file.write_text(f"# a comment\nDATABASE_URL=sqlite:///{database}\nDRAWBRIDGE_LOG_LEVEL=WARNING\n")

    result = drawbridge("--env-file", str(env_file), "db", "upgrade", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert {"oauth_clients", "audit_records"} <= tables(database)
    assert not (tmp_path / "var").exists()  # not the embedded default's file


def test_a_bad_value_in_the_env_file_is_named(tmp_path):
    env_file = tmp_path / "drawbridge.env"
    env_file.write_text("DRAWBRIDGE_LOG_LEVEL=LOUD\n")

    result = drawbridge("--env-file", str(env_file), "db", "upgrade", cwd=tmp_path)

    assert result.returncode != 0
    assert "DRAWBRIDGE_LOG_LEVEL='LOUD' must be one of" in result.stderr


def test_the_environment_wins_over_the_env_file(tmp_path):
    database = tmp_path / "from-the-file.sqlite3"
    env_file = tmp_path / "drawbridge.env"
    env_file.write_text(f"DATABASE_URL=sqlite:///{database}\nDRAWBRIDGE_LOG_LEVEL=LOUD\n")

    result = drawbridge("--env-file", str(env_file), "db", "upgrade", cwd=tmp_path, DRAWBRIDGE_LOG_LEVEL="WARNING")

    assert result.returncode == 0, result.stderr
    assert "oauth_clients" in tables(database)
