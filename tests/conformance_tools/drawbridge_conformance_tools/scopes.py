"""The scope the fixture tools need (its own module: shared/scopes.py loads it while importing)."""

from shared.scopes import Scope

SCOPE = "conformance:run"
SCOPES = (Scope(SCOPE, "Run the MCP conformance suite's fixture tools."),)
