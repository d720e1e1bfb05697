"""MCP tools: one class per tool, found through the `drawbridge.tools` entry points."""
