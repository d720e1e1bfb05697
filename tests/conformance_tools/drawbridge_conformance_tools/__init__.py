"""Fixture tools of the MCP conformance suite, added through the `drawbridge.tools` entry points:
the proof that a separate package can bring tools (and their scope) without touching the registry.
Its resources and prompts are in resources.py and prompts.py."""

from __future__ import annotations

import base64
import time
from typing import Any

from marshmallow import Schema, fields

from drawbridge_conformance_tools.scopes import SCOPE
from mcp_resource import jobs
from mcp_resource.errors import InputRequired, ToolError
from mcp_resource.tools import fields as json_fields
from mcp_resource.tools.base import Annotations, Tool, ToolCall, ToolResult

PROGRESS_STEP_SECONDS = 0.05
# A 1x1 transparent PNG and a short silent WAV: real files of their types, small enough to inline.
PNG_1X1 = base64.b64encode(
    bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")
).decode()
WAV_SILENCE = base64.b64encode(
    b"RIFF" + (36 + 8).to_bytes(4, "little") + b"WAVEfmt " + (16).to_bytes(4, "little") + (1).to_bytes(2, "little")
    + (1).to_bytes(2, "little") + (8000).to_bytes(4, "little") + (16000).to_bytes(4, "little") + (2).to_bytes(2, "little")
    + (16).to_bytes(2, "little") + b"data" + (8).to_bytes(4, "little") + bytes(8)
).decode()
IMAGE = {"type": "image", "data": PNG_1X1, "mimeType": "image/png"}
RESOURCE = {"type": "resource", "resource": {"uri": "test://embedded-resource", "mimeType": "text/plain", "text": "This is an embedded resource content."}}


class NoArguments(Schema):
    pass


class SimpleText(Tool):
    name = "test_simple_text"
    description = "Return a fixed line of text."
    scope = SCOPE
    annotations = Annotations(read_only=True, idempotent=True)
    Input = NoArguments

    def run(self, call: ToolCall, args: dict[str, Any]) -> ToolResult:
        return ToolResult(text="This is a simple text response for testing.")


class ProgressInput(Schema):
    steps = json_fields.Integer(load_default=3, validate=lambda n: 1 <= n <= 1000)
    step_seconds = fields.Float(load_default=PROGRESS_STEP_SECONDS, validate=lambda s: 0 <= s <= 5)


class ToolWithProgress(Tool):
    name = "test_tool_with_progress"
    description = "Report progress in steps, then finish."
    scope = SCOPE
    annotations = Annotations(read_only=True)
    Input = ProgressInput

    def run(self, call: ToolCall, args: dict[str, Any]) -> ToolResult:
        steps = args["steps"]
        for step in range(steps + 1):
            call.report_progress(step * 100 / steps, 100, f"step {step} of {steps}")
            if step < steps:
                time.sleep(args["step_seconds"])
        return ToolResult(text=f"Progress tool finished after {steps} steps.")


class SlowJobInput(Schema):
    steps = json_fields.Integer(load_default=3, validate=lambda n: 1 <= n <= 1000)
    step_ms = json_fields.Integer(load_default=500, validate=lambda ms: 0 <= ms <= 5000)


class SlowJob(Tool):
    """A job that is not idempotent (no annotation says so): if its worker dies, it is not run again."""

    name = "test_slow_job"
    description = "Count steps slowly as a job and return its job id at once."
    scope = SCOPE
    Input = SlowJobInput

    def run(self, call: ToolCall, args: dict[str, Any]) -> ToolResult:
        job = jobs.submit(call.principal, self.name, args)
        return ToolResult.json({"job_id": job.id, "status": job.status})

    def work(self, job: jobs.JobProgress, args: dict[str, Any]) -> dict[str, Any]:
        for step in range(1, args["steps"] + 1):
            job.report(step, args["steps"], f"step {step} of {args['steps']}")
            time.sleep(args["step_ms"] / 1000)
        return {"steps": args["steps"]}


class ErrorHandling(Tool):
    name = "test_error_handling"
    description = "Always fail the way a tool fails: a result with isError set."
    scope = SCOPE
    Input = NoArguments

    def run(self, call: ToolCall, args: dict[str, Any]) -> ToolResult:
        raise ToolError("This tool intentionally returns an error for testing")


class ImageContent(Tool):
    name = "test_image_content"
    description = "Return a small PNG image."
    scope = SCOPE
    annotations = Annotations(read_only=True, idempotent=True)
    Input = NoArguments

    def run(self, call: ToolCall, args: dict[str, Any]) -> ToolResult:
        return ToolResult(blocks=(IMAGE,))


class AudioContent(Tool):
    name = "test_audio_content"
    description = "Return a short silent WAV clip."
    scope = SCOPE
    annotations = Annotations(read_only=True, idempotent=True)
    Input = NoArguments

    def run(self, call: ToolCall, args: dict[str, Any]) -> ToolResult:
        return ToolResult(blocks=({"type": "audio", "data": WAV_SILENCE, "mimeType": "audio/wav"},))


class EmbeddedResource(Tool):
    name = "test_embedded_resource"
    description = "Return an embedded text resource."
    scope = SCOPE
    annotations = Annotations(read_only=True, idempotent=True)
    Input = NoArguments

    def run(self, call: ToolCall, args: dict[str, Any]) -> ToolResult:
        return ToolResult(blocks=(RESOURCE,))


class MultipleContentTypes(Tool):
    name = "test_multiple_content_types"
    description = "Return text, an image and an embedded resource together."
    scope = SCOPE
    annotations = Annotations(read_only=True, idempotent=True)
    Input = NoArguments

    def run(self, call: ToolCall, args: dict[str, Any]) -> ToolResult:
        return ToolResult(text="Multiple content types test:", blocks=(IMAGE, RESOURCE))


class Reconnection(Tool):
    name = "test_reconnection"
    description = "Close the response stream mid-call, then finish, so the client must resume."
    scope = SCOPE
    Input = NoArguments
    streams = True

    def run(self, call: ToolCall, args: dict[str, Any]) -> ToolResult:
        call.close_stream()
        time.sleep(0.8)  # long enough for the client to see the stream end and come back
        return ToolResult(text="Reconnection test completed successfully.")


class AddressSchema(Schema):
    class Meta:
        json_schema_extra = {"$anchor": "address"}

    street = json_fields.String()
    city = json_fields.String()


class JsonSchemaInput(Schema):
    class Meta:
        json_schema_extra = {
            "allOf": [{"anyOf": [{"required": ["name"]}, {"required": ["address"]}]}],
            "if": {"required": ["address"]},
            "then": {"properties": {"name": {"minLength": 1}}},
            "else": {"properties": {"name": {"minLength": 0}}},
        }

    name = json_fields.String()
    address = fields.Nested(AddressSchema)


class JsonSchema202012(Tool):
    name = "json_schema_2020_12_tool"
    description = "Take an input schema that uses JSON Schema 2020-12 features ($defs, $ref)."
    scope = SCOPE
    annotations = Annotations(read_only=True, idempotent=True)
    Input = JsonSchemaInput

    def run(self, call: ToolCall, args: dict[str, Any]) -> ToolResult:
        return ToolResult(text="ok")


class MissingCapability(Tool):
    name = "test_missing_capability"
    description = "Need the client's sampling capability, so a client without it is refused."
    scope = SCOPE
    Input = NoArguments
    requires_client_capabilities = ("sampling",)

    def run(self, call: ToolCall, args: dict[str, Any]) -> ToolResult:
        return ToolResult(text="The client declared sampling.")


class LoggingTool(Tool):
    name = "test_logging_tool"
    description = "Log three messages, which reach only clients that asked for log messages."
    scope = SCOPE
    Input = NoArguments

    def run(self, call: ToolCall, args: dict[str, Any]) -> ToolResult:
        for step in range(3):
            call.log("info", f"Tool execution step {step + 1}")
        return ToolResult(text="Logging tool finished.")


class ToolWithLogging(Tool):
    name = "test_tool_with_logging"
    description = "Log three messages at info level a little apart, for the handshake eras' logging/setLevel."
    scope = SCOPE
    Input = NoArguments

    def run(self, call: ToolCall, args: dict[str, Any]) -> ToolResult:
        for message in ("Tool execution started", "Tool processing data", "Tool execution completed"):
            call.log("info", message)
            time.sleep(PROGRESS_STEP_SECONDS)
        return ToolResult(text="Logging tool finished.")


class StreamingElicitation(Tool):
    name = "test_streaming_elicitation"
    description = "Ask the person a question through the client, as an input-required result."
    scope = SCOPE
    Input = NoArguments
    requires_client_capabilities = ("elicitation",)

    def run(self, call: ToolCall, args: dict[str, Any]) -> ToolResult:
        question = {
            "method": "elicitation/create",
            "params": {
                "message": "Please confirm to continue.",
                "requestedSchema": {"type": "object", "properties": {"confirmed": {"type": "boolean"}}, "required": ["confirmed"]},
            },
        }
        raise InputRequired({"confirm": question})


class HeaderParamsInput(Schema):
    region = json_fields.String(required=True, metadata={"x-mcp-header": "Region"})
    priority = json_fields.Integer(metadata={"x-mcp-header": "Priority"})
    query = json_fields.String()


class HeaderParams(Tool):
    name = "test_header_params"
    description = "Echo arguments that are mirrored in Mcp-Param headers for routing."
    scope = SCOPE
    annotations = Annotations(read_only=True, idempotent=True)
    Input = HeaderParamsInput

    def run(self, call: ToolCall, args: dict[str, Any]) -> ToolResult:
        return ToolResult(text=f"region={args['region']} priority={args.get('priority')}")
