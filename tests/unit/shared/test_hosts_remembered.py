"""The Host check remembers the values it allowed (shared/hosts.py): what it remembers changes no answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from shared import hosts
from shared.settings import Settings

PUBLIC_URL = "https://mcp.example.com/mcp"


def counting(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str) -> list[int]:
    """Replace `owner.name` with itself plus a call counter; the counter is the list's length."""
    calls: list[int] = []
    real: Callable[..., Any] = getattr(owner, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, counted)
    return calls


@pytest.fixture
def host_checked_app() -> Flask:
    app = Flask(__name__)
    app.config["SETTINGS"] = Settings(environment="production")
    hosts.init_app(app, [PUBLIC_URL])
    app.add_url_rule("/", "index", lambda: "ok")
    app.register_error_handler(hosts.UnknownHost, lambda _: ("misdirected", 421))
    return app


def test_an_allowed_host_is_parsed_once_and_others_are_still_refused(host_checked_app, monkeypatch):
    parsed = counting(monkeypatch, hosts, "host_name")
    client = host_checked_app.test_client()

    statuses = [client.get("/", headers={"Host": "mcp.example.com"}).status_code for _ in range(3)]

    assert statuses == [200, 200, 200]
    assert len(parsed) == 1
    assert client.get("/", headers={"Host": "evil.example"}).status_code == 421
    assert client.get("/", headers={"Host": "evil.example"}).status_code == 421
    assert client.get("/", headers={"Host": "mcp.example.com.evil.example"}).status_code == 421
    assert client.get("/", headers={"Host": "MCP.example.com:8443"}).status_code == 200


def test_the_remembered_hosts_are_bounded_and_the_rest_still_checked(host_checked_app, monkeypatch):
    client = host_checked_app.test_client()
    for port in range(1, hosts.MAX_ACCEPTED_HOSTS + 10):
        assert client.get("/", headers={"Host": f"mcp.example.com:{port}"}).status_code == 200
    parsed = counting(monkeypatch, hosts, "host_name")

    assert client.get("/", headers={"Host": "mcp.example.com:65000"}).status_code == 200
    assert client.get("/", headers={"Host": "evil.example:65000"}).status_code == 421
    assert len(parsed) == 2  # past the bound each is parsed, as before
