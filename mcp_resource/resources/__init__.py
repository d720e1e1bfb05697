"""The resource mechanism: one class per resource, static or templated (base.py, uri_templates.py),
found through the `drawbridge.resources` entry points (registry.py). The demo's own resources are
in mcp_resource/demo/resources.py. Application code calls `changed(uri)` after it changed what a
resource reads, so its subscribers hear `notifications/resources/updated`."""

from __future__ import annotations

from mcp_resource.services import services


def changed(*uris: str) -> None:
    """Tell every subscriber of each of `uris`, on whichever worker or instance its stream is, that
    the resource changed (call it after the change is committed). One Redis round trip for all;
    never fails the caller: notifications Redis could not take are logged."""
    services().resource_updates.changed(*uris)
