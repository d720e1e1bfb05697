"""JSON logs with the request id; X-Request-Id in and out."""

from __future__ import annotations

import json
import logging

from shared.logging import ContextFilter, JsonFormatter


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
    from tests.factories import fetch_token, make_client

    client = make_client()
    token = fetch_token(live_services.settings, client)

    log = live_services.auth.log_path.read_text()
    assert client.client_secret not in log
    assert token not in log
    assert '"event": "token_issued"' in log
