"""MCP over either protocol era, as every transport uses it.

A transport builds the request's `Context` (context.py) for its `Era` (eras.py). A `tools/call`
goes through the guardrail steps of `pipeline.py`, in their order; every other method is one
handler of `methods.py`, looked up in the era's method table.
"""
