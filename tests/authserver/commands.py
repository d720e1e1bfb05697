"""Running `drawbridge` commands in the CLI tests, as an operator would."""

from __future__ import annotations

from click.testing import Result
from flask.testing import FlaskCliRunner

from shared.cli import cli


def run(runner: FlaskCliRunner, *args: str, exit_code: int = 0, stdin: str | None = None) -> Result:
    """The command's result, once it ended with `exit_code` and printed no traceback."""
    result = runner.invoke(cli, list(args), input=stdin)
    assert result.exit_code == exit_code, result.output
    assert "Traceback" not in result.output
    return result
