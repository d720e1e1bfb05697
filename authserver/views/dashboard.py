"""The operations dashboard and the audit-log browser, for admins: the figures of usage.py over a
chosen time range, drawn as charts; the audit records a filter selects (audit_log.py), a page at a
time, and the same selection as CSV. Pages only read: every form here is sent by GET."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from flask import Blueprint, Response, g, render_template, request, stream_with_context, url_for
from werkzeug.datastructures import MultiDict

from authserver import audit_latency, audit_log, charts, usage
from authserver.audit_selection import ERROR_OUTCOMES, TimeRange, UsageQueryError
from authserver.client_summaries import list_clients
from authserver.forms import ANY, AuditFilterForm, SelectChoice, TimeRangeForm
from authserver.views.pages import role_only
from shared import scopes
from shared.db import utcnow

bp = Blueprint("dashboard", __name__, url_prefix="/operations")

ROLE = "admin"
# Clients drawn in the top callers' chart; the table beside it lists them all.
TOP_CALLERS = 10
RATE_LIMIT_LINES = 20
# A range longer than this is drawn a column per day, not per hour (a month: 30 columns, not 720).
DAILY_FROM = timedelta(days=2)

Page = str | tuple[str, int]


@dataclass(frozen=True)
class Figures:
    """Everything the dashboard shows for one range."""

    period: TimeRange
    tools: list[usage.ToolCalls]
    clients: list[usage.ClientCalls]
    step: str  # "hour" or "day": what each point of `series` counts
    series: list[usage.PeriodCalls]
    errors: usage.ErrorRate
    latency: list[usage.Latency]
    rate_limited: list[usage.RateLimitHits]
    unused: list[str]

    @classmethod
    def read(cls, period: TimeRange, now: datetime) -> Figures:
        daily = period.end - period.start > DAILY_FROM
        return cls(
            period,
            usage.calls_per_tool(period, now=now),
            usage.calls_per_client(period, now=now),
            "day" if daily else "hour",
            usage.calls_per_day(period, now=now) if daily else usage.calls_per_hour(period, now=now),
            usage.error_rate(period, now=now),
            usage.estimated_latency_per_tool(period, now=now),
            usage.rate_limit_hits(period, limit=RATE_LIMIT_LINES, now=now),
            usage.unused_tools(now),
        )


@bp.get("/")
@role_only(ROLE)
def index() -> Page:
    form = TimeRangeForm(formdata=_sent())
    if not _valid(form):
        return render_template("dashboard.html", user=g.user, form=form, figures=None), 400
    now = utcnow()
    figures = Figures.read(form.period(now), now)
    return render_template(
        "dashboard.html", user=g.user, form=form, figures=figures, charts=charts, call_parts=call_parts, top_callers=TOP_CALLERS,
        series=charts.columns([call_parts(point) for point in figures.series]), error_outcomes=ERROR_OUTCOMES, error_bound=f"{audit_latency.RELATIVE_ERROR:.1%}", audit_link=_link("dashboard.audit", _range_args(form)),
    )


@bp.get("/audit")
@role_only(ROLE)
def audit() -> Page:
    form = _audit_form()
    if not _valid(form):
        return render_template("audit.html", user=g.user, form=form, page=None), 400
    try:
        after = audit_log.Cursor.parse(form.after.data) if form.after.data else None
        page = audit_log.browse(form.period(utcnow()), form.filters(), after)
    except UsageQueryError as error:
        return render_template("audit.html", user=g.user, form=form, page=None, error=str(error)), 400
    chosen = {name: value for name, value in _sent_args().items() if name != "after"}
    return render_template(
        "audit.html", user=g.user, form=form, page=page,
        next_link=_link("dashboard.audit", {**chosen, "after": str(page.next)}) if page.next else None,
        first_link=_link("dashboard.audit", chosen) if after else None,
        csv_link=_link("dashboard.audit_csv", chosen),
    )


@bp.get("/audit.csv")
@role_only(ROLE)
def audit_csv() -> Response | Page:
    """Every record the browser's filters select (not one page), streamed."""
    form = _audit_form()
    if not _valid(form):
        return render_template("audit.html", user=g.user, form=form, page=None), 400
    period = form.period(utcnow())
    name = f"drawbridge-audit-{period.start:%Y%m%dT%H%M}-{period.end:%Y%m%dT%H%M}.csv"
    return Response(
        stream_with_context(audit_log.export_csv(period, form.filters())),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def call_parts(line: usage.ToolCalls | usage.ClientCalls | usage.PeriodCalls) -> list[charts.Part]:
    """A line's calls as a bar's parts: the rest, the errors, the rate-limited."""
    return [("other", line.calls - line.errors - line.rate_limited), ("errors", line.errors), ("limited", line.rate_limited)]


def _audit_form() -> AuditFilterForm:
    form = AuditFilterForm(formdata=_sent())
    clients = sorted(list_clients(), key=lambda c: c.name.lower())
    form.client.choices = [ANY, *(SelectChoice(c.client_id, f"{c.name} ({c.client_id})") for c in clients)]
    form.tool.choices = [ANY, *(SelectChoice(name) for name in scopes.tool_names())]
    return form


def _sent() -> MultiDict[str, str] | None:
    """The query string as the form's data; None for a first visit, so the defaults apply."""
    return request.args if request.args else None


def _sent_args() -> dict[str, str]:
    return {name: value for name, value in request.args.items() if value}


def _valid(form: TimeRangeForm) -> bool:
    return _sent() is None or form.validate()


def _link(endpoint: str, args: dict[str, str]) -> str:
    """The page at `endpoint` with these query arguments."""
    return f"{url_for(endpoint)}?{urlencode(args)}" if args else url_for(endpoint)


def _range_args(form: TimeRangeForm) -> dict[str, str]:
    return {name: value for name, value in _sent_args().items() if name in (form.range.name, form.start.name, form.end.name)}
