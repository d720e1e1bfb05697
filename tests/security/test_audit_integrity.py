"""Issue #18, the audit trail: no caller can poison a group commit, bloat a row, or mint metric series."""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace

import httpx
import pytest
from flask import Flask
from marshmallow import Schema, fields
from sqlalchemy import select

import mcp_resource
from mcp_resource.batching import Failed
from mcp_resource.guardrails import audit
from mcp_resource.models import AuditRecord
from mcp_resource.services import services
from mcp_resource.tools.base import Tool
from shared.db import db
from tests.conftest import migrate
from tests.factories import fetch_token, make_client, sign, valid_claims
from tests.mcp_http import modern_body, modern_headers
from tests.prometheus import METRICS_TOKEN, sample

LOAD_DEADLINE_SECONDS = 60
LEGITIMATE_CALLS = 150
HOSTILE_CALLS = 60


def rows_for(auth_app: Flask, request_ids: list[str]) -> dict[str, AuditRecord]:
    with auth_app.app_context():
        found = db.session.scalars(select(AuditRecord).where(AuditRecord.request_id.in_(request_ids)))
        return {row.request_id: row for row in found}


def raw_call(name: str, raw_arguments: str, token: str) -> tuple[bytes, dict[str, str]]:
    """A tools/call whose arguments are sent as written: JSON escapes no client library would emit."""
    body = modern_body("tools/call", {"name": name, "arguments": "@ARGUMENTS@"})
    text = json.dumps(body).replace('"@ARGUMENTS@"', raw_arguments)
    return text.encode(), modern_headers(body, token)


@pytest.mark.parametrize(
    "raw_arguments",
    ['{"note": "\\u0000"}', '{"\\u0000": 1}', '{"note": "\\ud800"}', '{"\\udfff": 1}', '{"note": NaN}'],
    ids=["nul-value", "nul-key", "lone-high-surrogate", "lone-low-surrogate-key", "nan"],
)
def test_unstorable_arguments_fail_no_other_clients_call(settings, auth_context, auth_app, live_services, raw_arguments):
    """RFC 8259 section 8.2: JSON "allows member names and string values to contain bit sequences
    that cannot encode Unicode characters; for example, "\\uDEAD" (a single unpaired UTF-16
    surrogate)... The behavior of software that receives JSON texts containing such values is
    unpredictable". PostgreSQL refuses them and NUL, and a group commit shares one statement: one
    hostile row must not fail the calls committed beside it. MCP tools, security considerations:
    "Servers MUST: Validate all tool inputs... Rate limit tool invocations"; refusals are audited,
    so the rate limit cannot be what stops this."""
    url = f"{live_services.mcp.url}/mcp"
    legitimate = fetch_token(settings, make_client(scope="posts:read", rate_limit=1_000_000))
    hostile = [  # one refused by its rate limit almost every time, one whose calls run
        fetch_token(settings, make_client(scope="posts:read", rate_limit=1)),
        fetch_token(settings, make_client(scope="posts:read", rate_limit=1_000_000)),
    ]
    answers: dict[str, list[tuple[int, str]]] = {"legitimate": [], "hostile": []}
    stop = threading.Event()

    def client(kind: str, body: bytes, headers: dict[str, str]) -> None:
        with httpx.Client(timeout=15) as http:
            while not stop.is_set():
                answer = http.post(url, content=body, headers=headers)
                answers[kind].append((answer.status_code, answer.headers.get("X-Request-Id", "")))

    threads = [threading.Thread(target=client, args=("legitimate", *raw_call("list_posts", "{}", legitimate))) for _ in range(4)]
    threads += [threading.Thread(target=client, args=("hostile", *raw_call("list_posts", raw_arguments, token))) for token in hostile * 2]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + LOAD_DEADLINE_SECONDS
    while time.monotonic() < deadline and (len(answers["legitimate"]) < LEGITIMATE_CALLS or len(answers["hostile"]) < HOSTILE_CALLS):
        time.sleep(0.05)
    stop.set()
    for thread in threads:
        thread.join()

    assert Counter(status for status, _ in answers["legitimate"]) == {200: len(answers["legitimate"])}
    assert {status for status, _ in answers["hostile"]} <= {200, 429}  # answered or rate-limited, never 503
    acknowledged = [request_id for _, request_id in answers["legitimate"] + answers["hostile"]]
    assert set(rows_for(auth_app, acknowledged)) == set(acknowledged)


class NoteInput(Schema):
    note = fields.Raw()


class Note(Tool):
    name = "note"
    description = "Keep a note."
    scope = "posts:read"
    Input = NoteInput


@pytest.fixture(params=["postgresql", "sqlite"])
def audit_app(request, mcp_app, settings, tmp_path) -> Iterator[Flask]:
    """A resource server with its group-commit writer: on the live services' PostgreSQL, or on a
    migrated SQLite database of its own."""
    app = mcp_app
    if request.param == "sqlite":
        own = replace(settings, database_url=f"sqlite:///{tmp_path / 'audit.sqlite3'}")
        migrate(own)
        app = mcp_resource.create_app(own)
    with app.test_request_context():
        yield app


@pytest.fixture
def caller() -> audit.Caller:
    """A caller of its own, so a test reads only its rows."""
    return audit.Caller("client", f"subject-{secrets.token_hex(4)}", "request")


def rows_of(caller: audit.Caller) -> list[AuditRecord]:
    return list(db.session.scalars(select(AuditRecord).where(AuditRecord.subject == caller.subject)))


def test_unstorable_text_is_stored_with_replacement_characters(audit_app, caller):
    """RFC 8259 section 8.2 (unpaired surrogates: "unpredictable" behaviour) and PostgreSQL's
    refusal of NUL in text and JSON: what a caller chose is stored with U+FFFD in place of each
    such character, on PostgreSQL and SQLite alike; surrogate pairs (an emoji) and an escaped
    backslash followed by "u0000" are text like any other and stay as they were."""
    arguments = {"note": "a\x00\ud800b", "\udc00": "c", "n": float("nan"), "emoji": "\U0001f600", "path": "C:\\u0000\\ud800"}

    audit.record(caller, "note\x00\ud800", Note(), arguments, "tool_error", 1.0, error="bad \x00 and \udfff")

    (row,) = rows_of(caller)
    assert row.tool == "note\ufffd\ufffd"
    assert row.error == "bad \ufffd and \ufffd"
    assert row.arguments == {"note": "a\ufffd\ufffdb", "\ufffd": "c", "n": None, "emoji": "\U0001f600", "path": "C:\\u0000\\ud800"}


def test_a_batch_with_one_unstorable_row_commits_the_others(audit_app, caller):
    """JSON-RPC 2.0 section 5: "When a rpc call encounters an error, the Response Object MUST
    contain the error member". The call whose row the database refuses gets that error (HTTP 503,
    -32603), alone: the rows of its batch are retried one by one and the others are committed."""
    writer = services(audit_app).audit
    good = [audit.row(replace(caller, request_id=f"good-{n}"), "note", Note(), {"note": n}, "ok", 1.0) for n in range(2)]
    bad = {**audit.row(replace(caller, request_id="bad"), "note", Note(), {}, "ok", 1.0), "tool": "\ud800"}  # as if unsanitised

    answers = writer.commit([good[0], bad, good[1]])
    with pytest.raises(audit.AuditUnavailable):
        writer.write(bad)
    writer.write(audit.row(replace(caller, request_id="after"), "note", Note(), {}, "ok", 1.0))

    assert answers[0] is None and answers[2] is None and isinstance(answers[1], Failed)
    assert sorted(row.request_id for row in rows_of(caller)) == ["after", "good-0", "good-1"]


BIG = "x" * 1_000_000


@pytest.mark.parametrize(
    ("name", "scope", "rate_limit", "status", "outcome"),
    [
        ("create_post", "posts:read", None, 403, "refused"),
        ("list_posts", "posts:read", 1, 429, "rate_limited"),
        ("no_such_tool", "posts:read", None, 200, "invalid"),
        ("list_posts", "posts:read", None, 200, "tool_error"),
    ],
    ids=["insufficient-scope", "rate-limited", "unknown-tool", "ran"],
)
def test_a_megabyte_of_arguments_stores_at_most_the_cap(settings, auth_context, auth_app, live_services, name, scope, rate_limit, status, outcome):
    """MCP tools, security considerations: "Servers MUST: Validate all tool inputs... Rate limit tool
    invocations". A call refused before it ran (scope, rate limit, unknown tool) stores no argument
    values, only their size; a call that ran stores at most DRAWBRIDGE_AUDIT_MAX_ARGUMENT_BYTES
    (16384) of them, with the size and SHA-256 of the whole."""
    token = fetch_token(settings, make_client(scope=scope, rate_limit=rate_limit))
    url = f"{live_services.mcp.url}/mcp"
    if rate_limit is not None:  # the limit is used up first
        first, first_headers = raw_call(name, "{}", token)
        assert httpx.post(url, content=first, headers=first_headers).status_code == 200
    arguments = {"title": "t", "blob": BIG}
    serialised = json.dumps(arguments, separators=(",", ":"))

    body, headers = raw_call(name, serialised, token)
    answer = httpx.post(url, content=body, headers=headers, timeout=15)

    assert answer.status_code == status
    row = rows_for(auth_app, [answer.headers["X-Request-Id"]])[answer.headers["X-Request-Id"]]
    assert row.outcome == outcome
    assert row.arguments_bytes == len(serialised)
    if outcome == "tool_error":
        assert row.arguments == serialised[:16384]
        assert row.arguments_sha256 == hashlib.sha256(serialised.encode()).hexdigest()
    else:
        assert (row.arguments, row.arguments_sha256) == (None, None)


def test_a_long_tool_name_stores_a_capped_error(settings, auth_context, auth_app, live_services):
    """A refused call's error quotes the name the caller chose: the row keeps at most
    audit.ERROR_MAX_CHARS of it (and 128 characters in the tool column)."""
    name = "n" * 60_000  # what fits in an Mcp-Name header line
    body, headers = raw_call(name, "{}", fetch_token(settings, make_client(scope="posts:read")))

    answer = httpx.post(f"{live_services.mcp.url}/mcp", content=body, headers=headers, timeout=15)

    row = rows_for(auth_app, [answer.headers["X-Request-Id"]])[answer.headers["X-Request-Id"]]
    assert (answer.status_code, row.outcome, row.tool) == (200, "invalid", name[:128])
    assert len(row.error) <= audit.ERROR_MAX_CHARS




@pytest.mark.usefixtures("live_services")
def test_unknown_tool_names_share_one_metrics_label(settings, auth_context):
    """Prometheus, naming practices (labels): "every unique combination of key-value label pairs
    represents a new time series... Do not use labels to store dimensions with high cardinality
    (many different label values), such as user IDs, email addresses, or other unbounded sets of
    values." A tool name a caller invents is such a value: all of them count under one label."""
    http = mcp_resource.create_app(replace(settings, metrics_token=METRICS_TOKEN)).test_client()
    claims = valid_claims(settings, scope="posts:read")
    invented = [f"invented_{n}_{claims['client_id']}" for n in range(3)]
    for name in invented:
        body = modern_body("tools/call", {"name": name, "arguments": {}})
        assert http.post("/mcp", data=json.dumps(body), headers=modern_headers(body, sign(claims))).status_code == 200

    text = http.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).get_data(as_text=True)

    assert sample(text, "drawbridge_tool_calls_total", tool=audit.UNKNOWN_TOOL, client_id=claims["client_id"], outcome="invalid") == 3.0
    assert not any(name in text for name in invented)

