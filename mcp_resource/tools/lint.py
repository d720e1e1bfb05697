"""`drawbridge tools lint`: descriptions a model reads at a glance, inputs held to JSON and to what
the database stores, and a tools/list that stays small."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from marshmallow import Schema, fields

from mcp_resource.tools import fields as json_fields
from mcp_resource.tools.registry import ToolRegistry

MAX_DESCRIPTION_CHARS = 200
_SENTENCE_END = re.compile(r"[.!?](?=\s+\S)")
# marshmallow's own fields take "3" for 3, any number of digits, a NUL or a lone surrogate, which
# then fail in the database as an internal error; the JSON fields refuse them as invalid arguments.
_JSON_FIELDS = {fields.String: json_fields.String, fields.Integer: json_fields.Integer, fields.Boolean: json_fields.Boolean}


@dataclass
class LintReport:
    lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def payload_bytes(listings: tuple[dict, ...] | list[dict]) -> int:
    """Bytes of a tools/list result holding these tools, as sent (compact JSON)."""
    return len(json.dumps({"tools": list(listings)}, separators=(",", ":")).encode())


def lint(registry: ToolRegistry, budget_bytes: int) -> LintReport:
    report = LintReport()
    scopes: set[str] = set()
    for name in registry.names():
        tool = registry.tool(name)
        scopes.add(tool.scope)
        description = tool.description.strip()
        report.lines.append(f"{name}: description {len(description)} chars")
        if len(description) > MAX_DESCRIPTION_CHARS:
            report.problems.append(f"{name}: description is {len(description)} characters; keep it to {MAX_DESCRIPTION_CHARS}.")
        if _SENTENCE_END.search(description) or not description.endswith((".", "!", "?")):
            report.problems.append(f"{name}: description must be one sentence ending with a full stop.")
        for path, plain in _plain_fields(tool.Input()):
            report.problems.append(f"{name}: input {path} is marshmallow's {plain}; use {json_fields.__name__}.{plain}.")
    for scope in sorted(scopes):
        visible = registry.visible_to(frozenset({scope}))
        report.lines.append(f"scope {scope}: {len(visible)} tools, tools/list {payload_bytes(visible)} bytes")
    everything = registry.visible_to(frozenset(scopes))
    total = payload_bytes(everything)
    report.lines.append(f"all scopes: {len(everything)} tools, tools/list {total} bytes (budget {budget_bytes})")
    if total > budget_bytes:
        report.problems.append(f"The whole catalogue's tools/list is {total} bytes, over the budget of {budget_bytes}.")
    return report


def _plain_fields(schema: Schema, prefix: str = "", seen: frozenset[type] = frozenset()) -> list[tuple[str, str]]:
    """(dotted path, field class name) of each input field, nested ones too, that has a JSON field to use instead."""
    found: list[tuple[str, str]] = []
    seen = seen | {type(schema)}  # a schema nested in itself is read once
    for name, spec in schema.fields.items():
        path = f"{prefix}{name}"
        while isinstance(spec, fields.List):
            spec, path = spec.inner, f"{path}[]"
        if isinstance(spec, fields.Nested) and isinstance(spec.schema, Schema) and type(spec.schema) not in seen:
            found += _plain_fields(spec.schema, f"{path}.", seen)
        elif type(spec) in _JSON_FIELDS:
            found.append((path, type(spec).__name__))
    return found
