"""`drawbridge tools lint`: description rules and the tools/list budget."""

from __future__ import annotations

from dataclasses import replace

from marshmallow import Schema, fields

from mcp_resource.tools import fields as json_fields
from mcp_resource.tools.base import Tool
from mcp_resource.tools.lint import lint
from mcp_resource.tools.registry import ToolRegistry
from shared.cli import cli, create_cli_app


class NoInput(Schema):
    pass


def tool(name: str, description: str, inputs: type[Schema] = NoInput) -> Tool:
    return type(name.title(), (Tool,), {"name": name, "description": description, "scope": "posts:read", "Input": inputs})()


# The test venv holds, beside the demo tools, two packages no deployment has: the conformance
# suite's fixture tools and the example package of docs/integrate.md (about 8 KB of tools/list).
TEST_VENV_BUDGET_BYTES = 16384 + 8192


def test_the_installed_catalogue_passes_and_reports_per_scope(settings):
    checked = replace(settings, tools_payload_budget_bytes=TEST_VENV_BUDGET_BYTES)

    result = create_cli_app(checked).test_cli_runner().invoke(cli, ["tools", "lint"])

    assert result.exit_code == 0, result.output
    assert "scope orders:write: 2 tools" in result.output
    assert "all scopes:" in result.output


def test_long_or_multi_sentence_descriptions_and_an_oversized_list_fail():
    registry = ToolRegistry([
        tool("fine", "Do one thing well."),
        tool("chatty", "Do one thing. Then do another."),
        tool("endless", "x" * 201 + "."),
        tool("unfinished", "No full stop"),
    ])

    report = lint(registry, budget_bytes=100)

    assert report.problems == [
        "chatty: description must be one sentence ending with a full stop.",
        "endless: description is 202 characters; keep it to 200.",
        "unfinished: description must be one sentence ending with a full stop.",
        f"The whole catalogue's tools/list is {report.lines[-1].split('tools/list ')[1].split(' ')[0]} bytes, over the budget of 100.",
    ]


def test_the_cli_fails_when_the_budget_is_exceeded(settings):
    result = create_cli_app(replace(settings, tools_payload_budget_bytes=1024)).test_cli_runner().invoke(cli, ["tools", "lint"])

    assert result.exit_code == 1
    assert "over the budget of 1024" in result.output


class Line(Schema):
    quantity = fields.Integer()
    note = json_fields.String()


class PlainInput(Schema):
    title = fields.String()
    count = json_fields.Integer()
    lines = fields.List(fields.Nested(Line))
    ratio = fields.Float()


def test_input_fields_must_be_the_json_ones():
    report = lint(ToolRegistry([tool("plain", "Do one thing well.", PlainInput)]), budget_bytes=10_000)

    assert report.problems == [
        "plain: input title is marshmallow's String; use mcp_resource.tools.fields.String.",
        "plain: input lines[].quantity is marshmallow's Integer; use mcp_resource.tools.fields.Integer.",
    ]
