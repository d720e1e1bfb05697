"""Fixture resources of the MCP conformance suite, by the URIs its scenarios read."""

from __future__ import annotations

import base64
import json

from drawbridge_conformance_tools import PNG_1X1
from drawbridge_conformance_tools.scopes import SCOPE
from mcp_resource.auth import Principal
from mcp_resource.resources.base import Contents, Resource, blob, text


class StaticText(Resource):
    name = "static_text"
    description = "A fixed line of text."
    scope = SCOPE
    uri = "test://static-text"
    mime_type = "text/plain"

    def read(self, principal: Principal, uri: str, values: dict[str, str]) -> list[Contents]:
        return [text(uri, "This is the content of the static text resource.")]


class StaticBinary(Resource):
    name = "static_binary"
    description = "A 1x1 PNG image."
    scope = SCOPE
    uri = "test://static-binary"
    mime_type = "image/png"

    def read(self, principal: Principal, uri: str, values: dict[str, str]) -> list[Contents]:
        return [blob(uri, base64.b64decode(PNG_1X1), "image/png")]


class TemplateData(Resource):
    name = "template_data"
    description = "Data for the id in the URI."
    scope = SCOPE
    uri_template = "test://template/{id}/data"
    mime_type = "application/json"

    def read(self, principal: Principal, uri: str, values: dict[str, str]) -> list[Contents]:
        document = {"id": values["id"], "templateTest": True, "data": f"Data for ID: {values['id']}"}
        return [text(uri, json.dumps(document), "application/json")]

    def complete(self, variable: str, value: str, context: dict[str, str]) -> list[str]:
        return [ident for ident in ("1", "12", "123") if ident.startswith(value)]


class WatchedResource(Resource):
    """What the suite's resources-subscribe and resources-unsubscribe scenarios subscribe to."""

    name = "watched_resource"
    description = "A line of text whose changes subscribers hear about."
    scope = SCOPE
    uri = "test://watched-resource"
    mime_type = "text/plain"

    def read(self, principal: Principal, uri: str, values: dict[str, str]) -> list[Contents]:
        return [text(uri, "This resource is watched for changes.")]
