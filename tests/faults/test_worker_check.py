"""`drawbridge worker --check`, the job worker's health check (#19 item 8): a missing or killed
worker is no longer invisible."""

from __future__ import annotations

import time

from click.testing import CliRunner, Result

from shared.cli import cli


def _check(env: dict[str, str]) -> Result:
    """`drawbridge worker --check` with the stack's environment (in this process: it starts faster)."""
    return CliRunner().invoke(cli, ["worker", "--check"], env=env)


def test_the_check_fails_without_a_worker_passes_with_one_and_fails_once_it_is_killed(fault_stack):
    missing = _check(fault_stack.env)
    assert missing.exit_code == 1 and "No job worker" in missing.output, missing.output

    worker = fault_stack.start_worker()
    deadline = time.monotonic() + 15
    while (running := _check(fault_stack.env)).exit_code != 0 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert running.exit_code == 0 and "Job workers of this host" in running.output, running.output

    worker.kill()  # kill -9: rq's registry still lists it until its heartbeat key expires
    worker.wait()
    killed = _check(fault_stack.env)
    assert killed.exit_code == 1 and "No job worker" in killed.output, killed.output
