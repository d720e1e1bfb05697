"""Audit rows for the tests of the dashboard's figures, written as the MCP server writes them."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import insert

from authserver.models import Client
from mcp_resource.guardrails.audit import AUDIT_TABLE
from shared.db import db

# A Monday long past, so no other test's rows and no real clock come near it.
BASE = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)


def add_calls(*calls: dict[str, Any]) -> None:
    """Audit rows: each a dict with at least `at`; the rest defaults to an ok call of get_post."""
    rows = []
    for number, call in enumerate(calls):
        row = {
            "client_id": "client-a", "subject": "person-1", "tool": "get_post", "arguments": None, "arguments_bytes": None,
            "arguments_sha256": None, "outcome": "ok", "rate_limit": None, "error": None, "duration_ms": 1.0, "ip": "127.0.0.1",
            "session_id": None, "request_id": f"request-{number}",
        }
        row.update(call)
        rows.append(row)
    db.session.execute(insert(AUDIT_TABLE), rows)
    db.session.commit()


def add_client(client_id: str, name: str) -> None:
    db.session.add(Client(client_id=client_id, client_name=name, grant_types="client_credentials"))
    db.session.commit()
