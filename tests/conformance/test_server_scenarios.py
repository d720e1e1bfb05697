"""The official MCP conformance suite against the live server, scenario by scenario.

Covered here: lifecycle, ping, tools, progress, errors, JSON Schema 2020-12, SSE streams and
polling, DNS-rebinding protection, the 2026-07-28 transport rules, resources (without
subscriptions), prompts, completions and logging. Resource subscriptions, sampling and elicitation
come with the rest of their issue.
"""

from __future__ import annotations

import pytest

from tests.conformance import suite

HANDSHAKE_SCENARIOS = [
    "server-initialize",
    "ping",
    "tools-list",
    "tools-call-simple-text",
    "tools-call-image",
    "tools-call-audio",
    "tools-call-embedded-resource",
    "tools-call-mixed-content",
    "tools-call-error",
    "tools-call-with-progress",
    "json-schema-2020-12",
    "server-sse-polling",
    "server-sse-multiple-streams",
    "dns-rebinding-protection",
    "resources-list",
    "resources-read-text",
    "resources-read-binary",
    "resources-templates-read",
    "prompts-list",
    "prompts-get-simple",
    "prompts-get-with-args",
    "prompts-get-embedded-resource",
    "prompts-get-with-image",
    "completion-complete",
    "logging-set-level",
    "tools-call-with-logging",
]
MODERN_SCENARIOS = [
    "server-stateless",
    "tools-list",
    "tools-call-simple-text",
    "tools-call-image",
    "tools-call-audio",
    "tools-call-embedded-resource",
    "tools-call-mixed-content",
    "tools-call-error",
    "tools-call-with-progress",
    "json-schema-2020-12",
    "server-sse-multiple-streams",
    "dns-rebinding-protection",
    "caching",
    "http-header-validation",
    "http-custom-header-server-validation",
    "resources-list",
    "resources-read-text",
    "resources-read-binary",
    "resources-templates-read",
    "sep-2164-resource-not-found",
    "prompts-list",
    "prompts-get-simple",
    "prompts-get-with-args",
    "prompts-get-embedded-resource",
    "prompts-get-with-image",
    "completion-complete",
]
CASES = (
    [("0.1", "2025-06-18", s) for s in HANDSHAKE_SCENARIOS if s not in ("json-schema-2020-12", "server-sse-polling", "server-sse-multiple-streams", "dns-rebinding-protection")]
    + [("0.1", "2025-11-25", s) for s in HANDSHAKE_SCENARIOS]
    + [("0.2", "2026-07-28", s) for s in MODERN_SCENARIOS]
)


@pytest.mark.parametrize(("line", "version", "scenario"), CASES, ids=[f"{v}-{s}" for _, v, s in CASES])
def test_scenario_passes(conformance_server, tmp_path, line, version, scenario):
    checks, output = suite.run(line, "server", tmp_path, "--url", conformance_server, "--scenario", scenario, "--spec-version", version)

    assert checks, f"the suite recorded no checks:\n{output[-3000:]}"
    failures = [c for c in checks if c.status == "FAILURE"]
    assert not failures, f"{scenario} at {version} failed:\n{suite.describe_failures(failures)}"
