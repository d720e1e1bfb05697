"""The resources from the `drawbridge.resources` entry points: static ones and templates, each
listed for the tokens holding its scope, and the one a URI names."""

from __future__ import annotations

import re
from typing import Any

from mcp_resource.catalogue import Catalogue, CatalogueError, load
from mcp_resource.resources.base import Resource
from mcp_resource.resources.uri_templates import UriTemplate, UriTemplateError

ENTRY_POINT_GROUP = "drawbridge.resources"
# RFC 3986 section 3.1: a URI starts with its scheme.
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


class ResourceRegistry:
    def __init__(self, resources: list[Resource]) -> None:
        self.static: Catalogue[Resource] = Catalogue("resource", [r for r in resources if r.template is None])
        self.templates: Catalogue[Resource] = Catalogue("resource template", [r for r in resources if r.template is not None])

    @classmethod
    def from_entry_points(cls) -> ResourceRegistry:
        return cls(load(ENTRY_POINT_GROUP, Resource, "resource", _check))

    def find(self, uri: str) -> tuple[Resource, dict[str, str]] | None:
        """The resource `uri` names and the template values it carries: a static URI first, then
        the first template (in template order) that makes it."""
        static = self.static.get(uri)
        if static is not None:
            return static, {}
        for template in self.templates.items.values():
            values = template.values_of(uri)
            if values is not None:
                return template, values
        return None

    def by_key(self, key: str) -> Resource | None:
        """A static URI or a URI template, as completion/complete names it."""
        return self.static.get(key) or self.templates.get(key)

    def listed(self, granted: frozenset[str]) -> tuple[dict[str, Any], ...]:
        return self.static.listings_visible_to(granted)

    def templates_listed(self, granted: frozenset[str]) -> tuple[dict[str, Any], ...]:
        return self.templates.listings_visible_to(granted)


def _check(where: str, resource_class: Any) -> None:
    uri, template = resource_class.uri, resource_class.uri_template
    if (uri is None) == (template is None):
        raise CatalogueError(f"{where} must declare exactly one of 'uri' and 'uri_template'.")
    if not isinstance(getattr(resource_class, "mime_type", None), str):
        raise CatalogueError(f"{where} does not declare 'mime_type' as text.")
    if not _SCHEME.match(uri or template):
        raise CatalogueError(f"{where}: {uri or template!r} does not start with a URI scheme (RFC 3986 section 3.1).")
    if template is not None:
        try:
            UriTemplate(template)
        except UriTemplateError as error:
            raise CatalogueError(f"{where}: {error}") from error
