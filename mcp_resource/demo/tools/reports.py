"""Reports: long work run as a job, and the tool that tells how a job is going."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from flask import current_app
from marshmallow import Schema, validate
from sqlalchemy import select

from mcp_resource import job_following, jobs
from mcp_resource.demo.models import Customer, Order, Post, Product
from mcp_resource.errors import ToolError
from mcp_resource.tools import fields as json_fields
from mcp_resource.tools.base import Annotations, Tool, ToolCall, ToolResult
from shared.db import db

REPORTS = ("sales_by_product", "orders_by_customer", "posts_by_status")


class RunReportInput(Schema):
    report = json_fields.String(required=True, validate=validate.OneOf(REPORTS), metadata={"description": "Which report to run."})


class RunReport(Tool):
    name = "run_report"
    description = "Start a report on sales, orders or posts as a job and return its job id at once."
    scope = "reports:run"
    # Idempotent: a report whose worker died is run once more (mcp_resource/job_runners.py).
    annotations = Annotations(read_only=True, idempotent=True)
    Input = RunReportInput

    def run(self, call: ToolCall, args: dict[str, Any]) -> ToolResult:
        job = jobs.submit(call.principal, self.name, args)
        if call.progress is None:
            return ToolResult.json({"job_id": job.id, "status": job.status, "next": "call check_job_status with this job_id"})
        return job_following.follow(call, job.id)

    def work(self, job: jobs.JobProgress, args: dict[str, Any]) -> dict[str, Any]:
        pace = current_app.config["SETTINGS"].report_step_ms / 1000
        rows = _REPORT_ROWS[args["report"]]()
        counted: Counter[str] = Counter()
        for step, (label, amount) in enumerate(rows, start=1):
            counted[label] += amount
            job.report(step, len(rows), f"{step} of {len(rows)} rows")
            time.sleep(pace)
        return {"report": args["report"], "rows": [{"label": k, "value": v} for k, v in counted.most_common()]}


def _sales_by_product() -> list[tuple[str, int]]:
    orders = db.session.scalars(select(Order).where(Order.status == "placed")).all()
    names = {p.id: p.name for p in db.session.scalars(select(Product))}
    return [(names.get(line.product_id, str(line.product_id)), line.quantity * line.unit_price_cents) for o in orders for line in o.lines]


def _orders_by_customer() -> list[tuple[str, int]]:
    names = {c.id: c.name for c in db.session.scalars(select(Customer))}
    return [(names.get(o.customer_id, str(o.customer_id)), 1) for o in db.session.scalars(select(Order))]


def _posts_by_status() -> list[tuple[str, int]]:
    return [(post.status, 1) for post in db.session.scalars(select(Post))]


_REPORT_ROWS = {"sales_by_product": _sales_by_product, "orders_by_customer": _orders_by_customer, "posts_by_status": _posts_by_status}


class CheckJobStatusInput(Schema):
    job_id = json_fields.String(required=True, validate=validate.Length(min=1, max=64), metadata={"description": "From run_report."})


class CheckJobStatus(Tool):
    name = "check_job_status"
    description = "Tell how a job is going: its state, progress and, once done, its result."
    scope = "reports:run"
    annotations = Annotations(read_only=True, idempotent=True)
    Input = CheckJobStatusInput

    def run(self, call: ToolCall, args: dict[str, Any]) -> ToolResult:
        job = jobs.find(args["job_id"], call.principal)
        if job is None:
            raise ToolError(f"No job with id {args['job_id']}; run_report returns the ids of your jobs.")
        return ToolResult.json(jobs.view(job))
