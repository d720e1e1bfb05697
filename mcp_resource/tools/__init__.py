"""The tool mechanism: one class per tool (base.py), found through the `drawbridge.tools` entry
points (registry.py), its input described as JSON Schema (fields.py, jsonschema.py) and checked
(lint.py). The demo's own tools are in mcp_resource/demo/tools/."""
