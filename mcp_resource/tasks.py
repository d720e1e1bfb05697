"""The tasks extension (io.modelcontextprotocol/tasks, 2026-07-28): a tool whose work is a job
answers a client that declared the extension with a task, which the client polls."""

from __future__ import annotations

import json
from typing import Any

from marshmallow import ValidationError

from mcp_resource import jobs
from mcp_resource.auth import Principal
from mcp_resource.errors import InternalError, InvalidParams, MissingRequiredClientCapability
from mcp_resource.models import Job
from mcp_resource.tools.base import Tool, ToolResult, describe_invalid

EXTENSION = "io.modelcontextprotocol/tasks"


def declared(client_capabilities: dict[str, Any]) -> bool:
    extensions = client_capabilities.get("extensions")
    return isinstance(extensions, dict) and EXTENSION in extensions


def create(principal: Principal, tool: Tool, arguments: dict[str, Any]) -> dict[str, Any]:
    """CreateTaskResult once the job is stored; invalid arguments answer at once, as a sync call would."""
    try:
        args = tool.load(arguments)
    except ValidationError as error:
        return ToolResult(text=describe_invalid(tool.name, error), is_error=True).to_mcp()
    return {"resultType": "task", **view(jobs.submit(principal, tool.name, args))}


def view(job: Job) -> dict[str, Any]:
    """The task as tasks/get shows it. A tool failure is a completed task whose result has isError,
    exactly what the call would have returned synchronously; a job whose worker stopped is a failed
    task with the JSON-RPC error a synchronous call cut short would have had, and why."""
    task: dict[str, Any] = {
        "taskId": job.id,
        "status": "completed" if job.status == "failed" else job.shown_status,
        "createdAt": job.created_at.isoformat(),
        "lastUpdatedAt": job.updated_at.isoformat(),
        "ttlMs": jobs.KEEP_FINISHED_MS,
        "pollIntervalMs": jobs.POLL_INTERVAL_MS,
    }
    if job.message:
        task["statusMessage"] = job.message
    if job.status == "completed":
        task["result"] = ToolResult(text=json.dumps(job.result)).to_mcp()
    elif job.status == "failed":
        task["result"] = ToolResult(text=job.error or "The job failed.", is_error=True).to_mcp()
    elif job.status == "interrupted":
        task["error"] = {"code": InternalError.code, "message": job.error}
    return task


def owned(principal: Principal, params: dict[str, Any], client_capabilities: dict[str, Any]) -> Job:
    """The caller's task that `params` names. The extension's methods are for clients that declared
    it: basic/index.mdx answers a request needing an undeclared capability with
    MissingRequiredClientCapabilityError (-32021), and versioning.mdx says an extension is used only
    when both sides negotiated it in `capabilities.extensions`."""
    if not declared(client_capabilities):
        raise MissingRequiredClientCapability(
            f"The tasks methods need the {EXTENSION} extension in the request's client capabilities.",
            data={"requiredCapabilities": {"extensions": {EXTENSION: {}}}},
        )
    job = jobs.find(params.get("taskId"), principal)
    if job is None:
        raise InvalidParams("Unknown taskId: tasks are visible only to the client that created them.")
    return job
