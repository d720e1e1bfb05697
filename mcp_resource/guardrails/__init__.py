"""Guardrails around every tool call: rate limits (and, with their issue, audit and metrics)."""
