"""The example tool package (examples/weather_tools), installed as a user's package would be, seen
and called through the official MCP SDK client on the live services, against a stand-in of the
HTTP API it wraps (tests/weather_api.py)."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from sqlalchemy import select

from authserver.clients import NewClient
from mcp_resource.models import AuditRecord
from shared.db import db
from tests.factories import fetch_token, make_client
from tests.weather_api import CURRENT

pytestmark = pytest.mark.usefixtures("live_services")

WEATHER_TOOLS = ["weather_create_alert", "weather_current", "weather_delete_alert", "weather_survey", "weather_survey_status"]


@pytest.fixture
def forecaster(auth_context) -> NewClient:
    return make_client(scope="weather:read weather:alerts")


def with_client(settings, token: str, calls):
    """Runs `calls(client)` in an MCP SDK client session holding the token."""

    async def session() -> Any:
        http = create_mcp_http_client(headers={"Authorization": f"Bearer {token}"})
        async with Client(streamable_http_client(settings.resource_url, http_client=http)) as client:
            return await calls(client)

    return asyncio.run(session())


def test_the_example_tools_are_listed_with_their_schemas_and_annotations(settings, forecaster):
    token = fetch_token(settings, forecaster)

    async def calls(client):
        return {tool.name: tool for tool in (await client.list_tools()).tools}

    tools = with_client(settings, token, calls)

    assert sorted(tools) == WEATHER_TOOLS
    current = tools["weather_current"]
    assert current.input_schema["required"] == ["city"]
    assert set(current.output_schema["properties"]) == {"city", "temperature_c", "conditions", "observed_at"}
    assert current.annotations.read_only_hint is True
    assert tools["weather_delete_alert"].annotations.destructive_hint is True
    assert tools["weather_create_alert"].annotations.read_only_hint is False


def test_the_example_tools_call_the_api_and_its_errors_come_back_as_tool_errors(settings, forecaster, weather_api):
    token = fetch_token(settings, forecaster)

    async def calls(client):
        return (
            await client.call_tool("weather_current", {"city": "Oslo"}),
            await client.call_tool("weather_current", {"city": "Atlantis"}),
            await client.call_tool("weather_create_alert", {"city": "Oslo", "below_c": -10, "phone": "+4712345678"}),
            await client.call_tool("weather_create_alert", {"city": "Oslo", "below_c": -10, "phone": "12345"}),
        )

    current, unknown, created, invalid = with_client(settings, token, calls)
    alert_id = created.structured_content["id"]

    async def delete(client):
        return (
            await client.call_tool("weather_delete_alert", {"alert_id": alert_id}),
            await client.call_tool("weather_delete_alert", {"alert_id": alert_id}),
        )

    deleted, gone = with_client(settings, token, delete)

    assert current.is_error is False
    assert current.structured_content == {"city": "Oslo", "temperature_c": -3.5, "conditions": "light snow", "observed_at": "2026-12-07T03:00:00Z"}
    assert unknown.is_error is True
    assert unknown.content[0].text == "No weather station reports for 'Atlantis'."
    assert created.structured_content == {"id": alert_id, "city": "Oslo", "below_c": -10.0}
    assert invalid.is_error is True
    assert "phone: Not an international phone number" in invalid.content[0].text
    assert deleted.is_error is False
    assert alert_id not in weather_api.alerts
    assert gone.is_error is True
    assert gone.content[0].text == f"There is no alert {alert_id}."


def test_the_sensitive_phone_number_is_redacted_in_the_audit_trail(settings, forecaster, auth_app):
    token = fetch_token(settings, forecaster)

    async def calls(client):
        return await client.call_tool("weather_create_alert", {"city": "Oslo", "below_c": -20, "phone": "+4787654321"})

    with_client(settings, token, calls)

    with auth_app.app_context():
        rows = db.session.scalars(select(AuditRecord).where(AuditRecord.client_id == forecaster.client.client_id)).all()
    assert [row.arguments for row in rows] == [{"city": "Oslo", "below_c": -20, "phone": "[redacted]"}]



def call(settings, token: str, name: str, arguments: dict) -> Any:
    """One tool call in its own SDK client session."""

    async def calls(client):
        return await client.call_tool(name, arguments)

    return with_client(settings, token, calls)


def test_a_survey_runs_as_a_job_whose_progress_reaches_a_client_that_asked_for_it(settings, forecaster):
    token = fetch_token(settings, forecaster)
    progress: list[tuple[float, float | None, str | None]] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append((value, total, message))

    async def calls(client):
        return await client.call_tool("weather_survey", {"cities": ["Oslo", "Atlantis", "Oslo"]}, progress_callback=on_progress)

    survey = json.loads(with_client(settings, token, calls).content[0].text)

    assert survey["status"] == "completed"
    assert survey["result"] == {"cities": [CURRENT["Oslo"], CURRENT["Oslo"]], "no_report": ["Atlantis"]}
    assert progress[-1] == (3, 3, "3 of 3 cities")


def test_a_survey_answers_with_its_job_id_at_once_and_only_its_client_reads_it(settings, forecaster, auth_context):
    token = fetch_token(settings, forecaster)
    other = fetch_token(settings, make_client(scope="weather:read"))

    started = json.loads(call(settings, token, "weather_survey", {"cities": ["Oslo"]}).content[0].text)
    deadline = time.monotonic() + 20
    while (state := json.loads(call(settings, token, "weather_survey_status", {"job_id": started["job_id"]}).content[0].text))["status"] == "working":
        assert time.monotonic() < deadline, state
        time.sleep(0.2)
    foreign = call(settings, other, "weather_survey_status", {"job_id": started["job_id"]})

    assert started["status"] == "working"
    assert state["status"] == "completed" and state["result"]["cities"] == [CURRENT["Oslo"]]
    assert foreign.is_error is True
    assert foreign.content[0].text == f"No survey with id {started['job_id']}; weather_survey returns the ids of your surveys."
