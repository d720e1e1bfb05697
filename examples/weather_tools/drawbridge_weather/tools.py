"""Three tools over the weather API: read the weather, create an alert, delete one."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from marshmallow import Schema, fields, validate

from drawbridge_weather import api
from drawbridge_weather.scopes import ALERTS, READ
from mcp_resource.tools import fields as json_fields
from mcp_resource.tools.base import Annotations, Tool, ToolCall, ToolResult

CITY = json_fields.String(required=True, validate=validate.Length(min=1, max=100), metadata={"description": "A city name, e.g. Oslo."})


class CityInput(Schema):
    city = CITY


class WeatherOutput(Schema):
    city = fields.String(required=True)
    temperature_c = fields.Float(required=True)
    conditions = fields.String(required=True)
    observed_at = fields.String(required=True)


class CurrentWeather(Tool):
    name = "weather_current"
    description = "The current temperature and conditions in a city."
    scope = READ
    # open_world: the answer comes from outside this deployment and changes over time.
    annotations = Annotations(read_only=True, idempotent=True, open_world=True)
    Input = CityInput
    Output = WeatherOutput

    def run(self, call: ToolCall, args: dict[str, Any]) -> ToolResult:
        return ToolResult.json(api.request("GET", f"/current?city={quote(args['city'])}"))


class CreateAlertInput(Schema):
    city = CITY
    below_c = fields.Float(required=True, validate=validate.Range(min=-60, max=40), metadata={"description": "Alert when colder than this."})
    # sensitive: the audit trail records this argument as redacted, never its value.
    phone = json_fields.String(
        required=True,
        validate=validate.Regexp(r"^\+[1-9][0-9]{6,14}$", error="Not an international phone number such as +4712345678."),
        metadata={"description": "Where the text message goes (E.164).", "sensitive": True},
    )


class AlertOutput(Schema):
    id = fields.Integer(required=True)
    city = fields.String(required=True)
    below_c = fields.Float(required=True)


class CreateAlert(Tool):
    name = "weather_create_alert"
    description = "Send a text message to a phone number when a city gets colder than a temperature."
    scope = ALERTS
    Input = CreateAlertInput
    Output = AlertOutput

    def run(self, call: ToolCall, args: dict[str, Any]) -> ToolResult:
        return ToolResult.json(api.request("POST", "/alerts", json=args))


class DeleteAlertInput(Schema):
    alert_id = json_fields.Integer(required=True, validate=validate.Range(min=1), metadata={"description": "From weather_create_alert."})


class DeleteAlert(Tool):
    name = "weather_delete_alert"
    description = "Delete a frost alert; no more messages are sent for it."
    scope = ALERTS
    annotations = Annotations(destructive=True, idempotent=True)
    Input = DeleteAlertInput

    def run(self, call: ToolCall, args: dict[str, Any]) -> ToolResult:
        api.request("DELETE", f"/alerts/{args['alert_id']}")
        return ToolResult(text=f"Alert {args['alert_id']} deleted.")
