"""Tools over the weather API: read the weather, survey many cities as a long-running job and read
the survey's state, create an alert, delete one."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from marshmallow import Schema, fields, validate

from drawbridge_weather import api
from drawbridge_weather.scopes import ALERTS, READ
from mcp_resource import job_following, jobs
from mcp_resource.errors import ToolError
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


class SurveyInput(Schema):
    cities = fields.List(CITY, required=True, validate=validate.Length(min=1, max=20), metadata={"description": "Up to 20 city names."})


class Survey(Tool):
    """A job: one API request per city, run by the job worker, its progress stored as it goes."""

    name = "weather_survey"
    description = "Survey the current weather in up to 20 cities as a job; answers with the job id, or follows it with progress."
    scope = READ
    # Idempotent: a survey whose worker died is run again from the start.
    annotations = Annotations(read_only=True, idempotent=True, open_world=True)
    Input = SurveyInput

    def run(self, call: ToolCall, args: dict[str, Any]) -> ToolResult:
        job = jobs.submit(call.principal, self.name, args)
        if call.progress is None:
            return ToolResult.json({"job_id": job.id, "status": job.status, "next": "call weather_survey_status with this job_id"})
        return job_following.follow(call, job.id)

    def work(self, job: jobs.JobProgress, args: dict[str, Any]) -> dict[str, Any]:
        cities = args["cities"]
        found, missing = [], []
        for step, city in enumerate(cities, start=1):
            try:
                found.append(api.request("GET", f"/current?city={quote(city)}"))
            except ToolError:
                missing.append(city)
            job.report(step, len(cities), f"{step} of {len(cities)} cities")  # stops here if the job was cancelled
        return {"cities": found, "no_report": missing}


class SurveyStatusInput(Schema):
    job_id = json_fields.String(required=True, validate=validate.Length(min=1, max=64), metadata={"description": "From weather_survey."})


class SurveyStatus(Tool):
    name = "weather_survey_status"
    description = "Tell how a weather survey is going: its state, progress and, once done, its result."
    scope = READ
    annotations = Annotations(read_only=True, idempotent=True)
    Input = SurveyStatusInput

    def run(self, call: ToolCall, args: dict[str, Any]) -> ToolResult:
        job = jobs.find(args["job_id"], call.principal)  # only the caller's own jobs
        if job is None:
            raise ToolError(f"No survey with id {args['job_id']}; weather_survey returns the ids of your surveys.")
        return ToolResult.json(jobs.view(job))


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
