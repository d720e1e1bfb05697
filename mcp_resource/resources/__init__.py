"""The resource mechanism: one class per resource, static or templated (base.py, uri_templates.py),
found through the `drawbridge.resources` entry points (registry.py). The demo's own resources are
in mcp_resource/demo/resources.py."""
