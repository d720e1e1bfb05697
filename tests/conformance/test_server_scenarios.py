"""The official MCP conformance suite against the live server, scenario by scenario.

Covered here: lifecycle, ping, tools, progress, errors, JSON Schema 2020-12, SSE streams and
polling, DNS-rebinding protection, the 2026-07-28 transport rules, resources (with subscriptions
in the handshake eras; 0.2.0-alpha.12 scores none for 2026-07-28's `subscriptions/listen`),
prompts, completions, logging, and asking the client mid-call (sampling and elicitation on the
call's stream; 2026-07-28 input-required results).
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
    "resources-subscribe",
    "resources-unsubscribe",
    "prompts-list",
    "prompts-get-simple",
    "prompts-get-with-args",
    "prompts-get-embedded-resource",
    "prompts-get-with-image",
    "completion-complete",
    "logging-set-level",
    "tools-call-with-logging",
    "tools-call-sampling",
    "tools-call-elicitation",
    "elicitation-sep1034-defaults",
    "elicitation-sep1330-enums",
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
    "input-required-result-basic-elicitation",
    "input-required-result-basic-sampling",
    "input-required-result-basic-list-roots",
    "input-required-result-request-state",
    "input-required-result-multiple-input-requests",
    "input-required-result-multi-round",
    "input-required-result-missing-input-response",
    "input-required-result-non-tool-request",
    "input-required-result-result-type",
    "input-required-result-unsupported-methods",
    "input-required-result-tampered-state",
    "input-required-result-capability-check",
    "input-required-result-ignore-extra-params",
    "input-required-result-validate-input",
]
# Scenarios of the 2025-11-25 suite that 2025-06-18 does not have.
NEWER_THAN_2025_06_18 = (
    "json-schema-2020-12",
    "server-sse-polling",
    "server-sse-multiple-streams",
    "dns-rebinding-protection",
    "elicitation-sep1034-defaults",
    "elicitation-sep1330-enums",
)
CASES = (
    [("0.1", "2025-06-18", s) for s in HANDSHAKE_SCENARIOS if s not in NEWER_THAN_2025_06_18]
    + [("0.1", "2025-11-25", s) for s in HANDSHAKE_SCENARIOS]
    + [("0.2", "2026-07-28", s) for s in MODERN_SCENARIOS]
)


@pytest.mark.parametrize(("line", "version", "scenario"), CASES, ids=[f"{v}-{s}" for _, v, s in CASES])
def test_scenario_passes(conformance_server, tmp_path, line, version, scenario):
    checks, output = suite.run(line, "server", tmp_path, "--url", conformance_server, "--scenario", scenario, "--spec-version", version)

    assert checks, f"the suite recorded no checks:\n{output[-3000:]}"
    failures = [c for c in checks if c.status == "FAILURE"]
    assert not failures, f"{scenario} at {version} failed:\n{suite.describe_failures(failures)}"
