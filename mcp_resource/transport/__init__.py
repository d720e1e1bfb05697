"""HTTP transports of the MCP server."""
