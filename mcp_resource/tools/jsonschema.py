"""A tool's marshmallow schema as the JSON Schema 2020-12 document that `tools/list` publishes.

apispec does the field-by-field conversion (OpenAPI 3.1 schema objects are JSON Schema 2020-12);
nested schemas become local `$defs`, so each tool's schema stands alone. Keywords marshmallow has
no field for (`allOf`, `if`/`then`/`else`, `$anchor`...) are declared on the same schema class as
`class Meta: json_schema_extra = {...}`; they guide the model, and marshmallow still validates.
"""

from __future__ import annotations

import json
import re
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.common import resolve_schema_cls
from marshmallow import Schema

DIALECT = "https://json-schema.org/draft/2020-12/schema"
_COMPONENT_REF = "#/components/schemas/"


def _definition_name(schema: Any) -> str:
    """`AddressSchema` -> `address`: the name a nested schema gets under `$defs`."""
    # apispec's return type includes a list, which marshmallow's class registry gives only when asked
    # for every class of a name (all=True); resolve_schema_cls never asks.
    name = resolve_schema_cls(schema).__name__.removesuffix("Schema")  # type: ignore[union-attr]
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _extra(schema: Any) -> dict[str, Any]:
    return dict(getattr(getattr(resolve_schema_cls(schema), "Meta", None), "json_schema_extra", {}))


def json_schema(schema: type[Schema]) -> dict[str, Any]:
    nested: dict[str, Any] = {}

    def name_of(candidate: Any) -> str:
        nested[_definition_name(candidate)] = candidate
        return _definition_name(candidate)

    plugin = MarshmallowPlugin(schema_name_resolver=name_of)
    spec = APISpec(title="drawbridge-tools", version="1", openapi_version="3.1.0", plugins=[plugin])
    converted = plugin.converter.schema2jsonschema(schema)  # type: ignore[union-attr]
    converted.setdefault("properties", {})
    definitions = spec.to_dict().get("components", {}).get("schemas", {})
    document = {"$schema": DIALECT, **converted, **_extra(schema)}
    if definitions:
        document["$defs"] = {name: {**body, **_extra(nested[name])} for name, body in definitions.items()}
    # Point every reference at the local definitions instead of an OpenAPI document's components.
    return json.loads(json.dumps(document).replace(f'"{_COMPONENT_REF}', '"#/$defs/'))
