"""Example tool package: a small weather HTTP API as MCP tools (docs/integrate.md walks through it)."""
