"""A tool's marshmallow schema as the JSON Schema (2020-12) that `tools/list` publishes."""

from __future__ import annotations

from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import Schema

_plugin = MarshmallowPlugin()
# OpenAPI 3.1 schema objects are JSON Schema 2020-12, which is what MCP expects by default.
APISpec(title="drawbridge-tools", version="1", openapi_version="3.1.0", plugins=[_plugin])


def json_schema(schema: type[Schema]) -> dict[str, Any]:
    converted = _plugin.converter.schema2jsonschema(schema)  # type: ignore[union-attr]
    converted.setdefault("properties", {})
    return converted
