"""The demo domain's tools, one file per area; each class is a `drawbridge.tools` entry point in
pyproject.toml. Their mechanism (Tool, the registry, the schema fields) is mcp_resource/tools/."""
