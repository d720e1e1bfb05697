"""The soak's bookkeeping (bench/soak_ledger.py): what counts as acknowledged, lost, unexpected and
stuck, so the summary line of `bench.soak` says what the clients really saw."""

from __future__ import annotations

import time
from collections import Counter

import pytest

from bench.soak_ledger import (
    RECOVERY_SECONDS,
    STREAM_END,
    Answer,
    Ledger,
    by_phase,
    lost,
    memory_change,
    outcome,
    stuck,
    unexpected,
)

RESULT = b'{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"soak"}],"isError":false}}'
ERROR = b'{"jsonrpc":"2.0","id":1,"error":{"code":-32603,"message":"Internal error"}}'


@pytest.mark.parametrize(
    ("answer", "legacy", "rpc", "expected"),
    [
        (Answer(200, {}, RESULT), False, True, "ack"),
        (Answer(200, {}, ERROR), False, True, "200-error"),
        (Answer(200, {}, b"<html>"), False, True, "200-unreadable"),
        (Answer(200, {}, b'{"access_token":"x"}'), False, False, "ok"),
        (Answer(503, {"retry-after": "1"}, ERROR), False, True, "retry"),
        (Answer(503, {}, b"Service Unavailable"), False, True, "503-no-retry-after"),
        (Answer(404, {}, ERROR), True, True, "new-session"),
        (Answer(404, {}, ERROR), False, True, "404"),
        (Answer(500, {}, b"Internal Server Error"), False, False, "500"),
    ],
)
def test_each_answer_is_read_as_a_client_reads_it(answer, legacy, rpc, expected):
    assert outcome(answer, legacy, rpc) == expected


def test_an_acknowledged_call_without_an_audit_row_is_lost_and_a_refused_one_is_not():
    ledger = Ledger()
    ledger.record("modern", "ack", "soak-1")
    ledger.record("legacy", "ack", "soak-2")
    ledger.record("modern", "retry", "soak-3")
    ledger.record("token", "ok")

    assert ledger.calls == ["soak-1", "soak-2", "soak-3"]
    assert ledger.refused == {"soak-3"}
    assert lost(ledger.acknowledged, audited={"soak-1", "soak-3"}) == ["soak-2"]
    assert lost(ledger.acknowledged, audited={"soak-1", "soak-2"}) == []


def test_unexpected_counts_every_status_and_transport_error_but_not_waits_new_sessions_or_stream_ends():
    outcomes = Counter({
        ("modern", "steady", "ack"): 100,
        ("modern", "redis-freeze", "retry"): 7,
        ("legacy", "redis-restart", "new-session"): 3,
        ("token", "auth-down", "down"): 9,
        ("modern", "postgres-restart", "500"): 2,
        ("token", "postgres-restart", "500"): 1,
        ("modern", "mcp-worker-kill", "reset"): 4,
        (STREAM_END, "mcp-worker-kill", "closed"): 150,
    })

    assert unexpected(outcomes) == {"500": 3, "reset": 4}
    assert by_phase(outcomes)["postgres-restart"] == {"modern 500": 2, "token 500": 1}


def test_answers_count_towards_the_fault_in_force_and_its_recovery_then_steady_again():
    ledger = Ledger()
    now = time.monotonic()
    ledger.faults = [("redis-freeze", now - 100, now - 90), ("auth-down", now - 30, now - 20)]

    assert ledger.phase(now - 95) == "redis-freeze"
    assert ledger.phase(now - 90 + RECOVERY_SECONDS - 1) == "redis-freeze"
    assert ledger.phase(now - 50) == "steady"
    assert ledger.phase(now - 25) == "auth-down"


def test_a_service_is_down_only_while_its_own_fault_is_in_force():
    ledger = Ledger()
    ledger.fault_started("auth-down")
    assert ledger.down("auth") and not ledger.down("mcp")
    ledger.fault_ended()
    assert not ledger.down("auth")
    assert ledger.faults[0][2] != float("inf")


def test_a_job_is_stuck_unless_its_row_is_final_and_a_missing_row_is_stuck_too():
    statuses = {"a": "completed", "b": "failed", "c": "cancelled", "d": "working", "e": "working"}

    assert stuck(["a", "b", "c", "d", "e", "f"], statuses) == {"missing": 1, "working": 2}
    assert stuck(["a", "b"], statuses) == {}


def test_memory_is_compared_role_by_role():
    changes = memory_change({"mcp-worker-1": 102400, "job-worker": 51200}, {"mcp-worker-1": 112640, "redis": 10240})

    assert changes == {"job-worker": "50->gone", "mcp-worker-1": "100->110 (+10%)", "redis": "new->10"}
