"""JSON logs with the request id; X-Request-Id in and out; an error's detail on its request's line."""

from __future__ import annotations

import json
import logging
import secrets
from pathlib import Path

import httpx

from shared.logging import ContextFilter, JsonFormatter
from tests.factories import foreign_key, make_client, sign, valid_claims
from tests.mcp_http import modern_body, modern_headers


def test_a_sane_request_id_is_echoed_and_an_odd_one_replaced(auth_app):
    http = auth_app.test_client()

    kept = http.get("/healthz", headers={"X-Request-Id": "abc-123"})
    replaced = http.get("/healthz", headers={"X-Request-Id": "bad id <script>"})

    assert kept.headers["X-Request-Id"] == "abc-123"
    assert len(replaced.headers["X-Request-Id"]) == 32
    assert replaced.headers["X-Request-Id"].isalnum()


def test_log_lines_are_json_with_the_event_fields_and_request_id(auth_app):
    formatter, context = JsonFormatter(), ContextFilter("authserver")
    with auth_app.test_request_context("/token"):
        from flask import g

        g.request_id = "req-1"
        record = logging.makeLogRecord({"msg": "token_issued", "levelname": "INFO", "name": "x", "grant": "client_credentials"})
        context.filter(record)
        line = json.loads(formatter.format(record))

    assert line["event"] == "token_issued"
    assert line["grant"] == "client_credentials"
    assert line["request_id"] == "req-1"
    assert line["service"] == "authserver"


def test_live_token_log_has_no_secret_or_token(live_services, auth_context):
    from tests.factories import fetch_token

    client = make_client()
    token = fetch_token(live_services.settings, client)

    log = live_services.auth.log_path.read_text()
    assert client.client_secret not in log
    assert token not in log
    assert '"event": "token_issued"' in log


def log_line(path: Path, request_id: str, event: str) -> dict:
    """The live server's JSON log line of `event` for the request `request_id`."""
    lines = [json.loads(text) for text in path.read_text().splitlines() if request_id in text]
    return next(line for line in lines if line["event"] == event and line.get("request_id") == request_id)


def test_a_refused_tokens_detail_is_on_the_live_log_line_of_its_request(live_services, auth_context):
    """The client hears only that the token was not signed by the authorization server; the log line
    of its request, found by its X-Request-Id, says which key it named (errors.py: `detail`)."""
    settings = live_services.settings
    forged = sign(valid_claims(settings), foreign_key())
    request_id = f"detail-{secrets.token_hex(6)}"
    body = modern_body("tools/list")

    response = httpx.post(settings.resource_url, json=body, headers={**modern_headers(body, forged), "X-Request-Id": request_id}, timeout=10)

    assert response.status_code == 401
    assert response.json()["error_description"] == "The token was not signed by the authorization server."
    line = log_line(live_services.mcp.log_path, request_id, "error_answered")
    assert line["error"] == "invalid_token"
    assert "is not among the authorization server's published keys" in line["detail"]
    assert "published keys" not in response.text + str(response.headers)


def test_a_wrong_secrets_detail_is_on_the_live_log_line_of_its_request(live_services, auth_context):
    """RFC 6749 section 5.2 lets the client hear only invalid_client, whatever failed; the log line
    says it was the secret, of which client."""
    client = make_client()
    request_id = f"detail-{secrets.token_hex(6)}"

    response = httpx.post(
        f"{live_services.settings.issuer}/token",
        data={"grant_type": "client_credentials"},
        auth=(client.client.client_id, "not-the-secret"),
        headers={"X-Request-Id": request_id},
        timeout=10,
    )

    assert response.status_code == 401
    assert response.json() == {"error": "invalid_client", "error_description": "Client authentication failed."}
    line = log_line(live_services.auth.log_path, request_id, "error_answered")
    assert line["detail"] == f"the client_secret does not match the client {client.client.client_id}'s"
    assert line["path"] == "/token"
