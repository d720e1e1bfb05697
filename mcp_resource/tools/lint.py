"""`drawbridge tools lint`: descriptions a model reads at a glance, and a tools/list that stays small."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from mcp_resource.tools.registry import ToolRegistry

MAX_DESCRIPTION_CHARS = 200
_SENTENCE_END = re.compile(r"[.!?](?=\s+\S)")


@dataclass
class LintReport:
    lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def payload_bytes(listings: tuple[dict, ...] | list[dict]) -> int:
    """Bytes of a tools/list result holding these tools, as sent (compact JSON)."""
    return len(json.dumps({"tools": list(listings)}, separators=(",", ":")).encode())


def lint(registry: ToolRegistry, budget_bytes: int) -> LintReport:
    report = LintReport()
    scopes: set[str] = set()
    for name in registry.names():
        tool = registry.tool(name)
        scopes.add(tool.scope)
        description = tool.description.strip()
        report.lines.append(f"{name}: description {len(description)} chars")
        if len(description) > MAX_DESCRIPTION_CHARS:
            report.problems.append(f"{name}: description is {len(description)} characters; keep it to {MAX_DESCRIPTION_CHARS}.")
        if _SENTENCE_END.search(description) or not description.endswith((".", "!", "?")):
            report.problems.append(f"{name}: description must be one sentence ending with a full stop.")
    for scope in sorted(scopes):
        visible = registry.visible_to(frozenset({scope}))
        report.lines.append(f"scope {scope}: {len(visible)} tools, tools/list {payload_bytes(visible)} bytes")
    everything = registry.visible_to(frozenset(scopes))
    total = payload_bytes(everything)
    report.lines.append(f"all scopes: {len(everything)} tools, tools/list {total} bytes (budget {budget_bytes})")
    if total > budget_bytes:
        report.problems.append(f"The whole catalogue's tools/list is {total} bytes, over the budget of {budget_bytes}.")
    return report
