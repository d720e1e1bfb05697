"""What the soak's clients saw, and how it compares with the audit table and the job rows: pure
bookkeeping, no I/O, so its arithmetic has a test of its own (tests/unit/bench/test_soak_accounting.py)."""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field

from mcp_resource.models import Job

# After a fault ends, answers still count towards it for this long (clients reconnecting, pools refilling).
RECOVERY_SECONDS = 10.0
STEADY = "steady"
STREAM_END = "stream-end"


@dataclass(frozen=True)
class Answer:
    """One HTTP answer as the client read it (headers lower-cased)."""

    status: int
    headers: dict[str, str]
    body: bytes


def outcome(answer: Answer, legacy: bool = False, rpc: bool = True) -> str:
    """How a client reads an answer: `ack` (a JSON-RPC result; `ok` for any other 200 when the
    answer is not JSON-RPC, as the token endpoint's), `retry` (503 with Retry-After, a
    temporary refusal a client waits out), `new-session` (a 2025-11-25 session the server no longer
    knows: the client initializes again, as the specification says), else the status itself, with
    the JSON-RPC error marker for a 200 that carries an error."""
    if answer.status == 200 and not rpc:
        return "ok"
    if answer.status == 200:
        try:
            message = json.loads(answer.body)
        except ValueError:
            return "200-unreadable"
        return "ack" if isinstance(message, dict) and "result" in message else "200-error"
    if answer.status == 503 and "retry-after" in answer.headers:
        return "retry"
    if answer.status == 404 and legacy:
        return "new-session"
    if answer.status == 503:
        return "503-no-retry-after"
    return str(answer.status)


EXPECTED = frozenset({"ack", "ok", "retry", "new-session", "down"})


@dataclass
class Ledger:
    """Every call's request id and outcome, counted by the fault in force when it was answered."""

    started: float = field(default_factory=time.monotonic)
    calls: list[str] = field(default_factory=list)
    acknowledged: set[str] = field(default_factory=set)
    refused: set[str] = field(default_factory=set)  # 503 + Retry-After: the README says each has its audit row
    job_ids: list[str] = field(default_factory=list)
    faults: list[tuple[str, float, float]] = field(default_factory=list)
    outcomes: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    _current: str | None = None

    def fault_started(self, name: str) -> None:
        self._current = name
        self.faults.append((name, time.monotonic(), float("inf")))

    def fault_ended(self) -> None:
        name, start, _ = self.faults[-1]
        self.faults[-1] = (name, start, time.monotonic())
        self._current = None

    def phase(self, at: float) -> str:
        """The fault in force at `at`, or in its recovery window, else steady."""
        for name, start, end in reversed(self.faults):
            if start <= at <= end + RECOVERY_SECONDS:
                return name
        return STEADY

    def down(self, service: str) -> bool:
        """Is `service` deliberately down right now (its fault is `<service>-down`)?"""
        return self._current == f"{service}-down"

    def record(self, kind: str, result: str, request_id: str | None = None) -> None:
        """One answer (`kind`: call, token, refresh, stream...); a call also by its request id."""
        self.outcomes[(kind, self.phase(time.monotonic()), result)] += 1
        if request_id is not None:
            self.calls.append(request_id)
            if result == "ack":
                self.acknowledged.add(request_id)
            elif result == "retry":
                self.refused.add(request_id)


def unexpected(outcomes: Counter[tuple[str, str, str]]) -> dict[str, int]:
    """Every answer no client should see, by status or transport error, over all kinds and phases
    (a stream's end is no answer: it is counted apart)."""
    counted: Counter[str] = Counter()
    for (kind, _, result), n in outcomes.items():
        if kind != STREAM_END and result not in EXPECTED:
            counted[result] += n
    return dict(sorted(counted.items()))


def by_phase(outcomes: Counter[tuple[str, str, str]]) -> dict[str, dict[str, int]]:
    """The same answers as `kind result: n`, per phase (steady, or the fault they fell in)."""
    table: dict[str, dict[str, int]] = {}
    for (kind, phase, result), n in sorted(outcomes.items()):
        table.setdefault(phase, {})[f"{kind} {result}"] = n
    return table


def lost(acknowledged: set[str], audited: set[str]) -> list[str]:
    """Calls a client was told succeeded that have no audit row."""
    return sorted(acknowledged - audited)


def stuck(job_ids: list[str], statuses: dict[str, str]) -> dict[str, int]:
    """Jobs a client was told about that are not in a final state (or have no row), by status."""
    counted = Counter(statuses.get(job_id, "missing") for job_id in job_ids)
    return {status: n for status, n in sorted(counted.items()) if status not in Job.FINAL_STATUSES}


def memory_change(warm: dict[str, int], end: dict[str, int]) -> dict[str, str]:
    """`warm->end MiB (+x%)` per process role; a role seen at one end only is `new` or `gone`."""
    changes = {}
    for role in sorted(warm.keys() | end.keys()):
        before, after = warm.get(role), end.get(role)
        if before is None or after is None:
            changes[role] = f"{_mib(before, 'new')}->{_mib(after, 'gone')}"
        else:
            changes[role] = f"{_mib(before, '')}->{_mib(after, '')} ({(after - before) / before:+.0%})"
    return changes


def _mib(kib: int | None, missing: str) -> str:
    return missing if kib is None else f"{kib / 1024:.0f}"
