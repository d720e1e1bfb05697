"""The scope catalogue: each scope's name, its meaning in plain words, and the tools it unlocks."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib.metadata import entry_points
from typing import Any

TOOLS_ENTRY_POINT_GROUP = "drawbridge.tools"
SCOPES_ENTRY_POINT_GROUP = "drawbridge.scopes"


@dataclass(frozen=True)
class Scope:
    name: str
    description: str


CORE_SCOPES: tuple[Scope, ...] = (
    Scope("customers:read", "See customers' names, email addresses and cities."),
    Scope("products:read", "See the product catalogue with prices and stock."),
    Scope("orders:read", "See orders and what is in them."),
    Scope("orders:write", "Place and cancel orders for customers."),
    Scope("posts:read", "Read the blog's posts, drafts included."),
    Scope("posts:write", "Write, edit and publish blog posts."),
    Scope("reports:run", "Run reports on sales, orders and posts, and read their results."),
)


def _with_installed_scopes() -> tuple[Scope, ...]:
    """The core scopes plus those a separately installed tool package declares for its tools."""
    extra = [scope for entry_point in entry_points(group=SCOPES_ENTRY_POINT_GROUP) for scope in entry_point.load()]
    return CORE_SCOPES + tuple(extra)


SCOPES: tuple[Scope, ...] = _with_installed_scopes()
SCOPE_NAMES: frozenset[str] = frozenset(s.name for s in SCOPES)


class Effect(StrEnum):
    """What a scope lets a client do to the data, as the consent page marks it."""

    READS = "reads"
    CHANGES = "changes"
    DELETES = "deletes"


def descriptions() -> dict[str, str]:
    """Each scope's plain words, by name."""
    return {s.name: s.description for s in SCOPES}


def parse(scope: str | None) -> list[str]:
    """A space-delimited scope string (RFC 6749 section 3.3) as a sorted list without repeats."""
    return sorted(set((scope or "").split()))


def unknown(names: list[str]) -> list[str]:
    """The names that are not in the catalogue."""
    return [n for n in names if n not in SCOPE_NAMES]


def tool_names() -> list[str]:
    """Every installed tool's name, sorted."""
    return sorted(name for names in tools_by_scope().values() for name in names)


@cache
def tools_by_scope() -> dict[str, tuple[str, ...]]:
    """Tool names per scope. Each tool declares its scope; tools are found by entry point name."""
    found: dict[str, list[str]] = defaultdict(list)
    for name, tool in _tools():
        found[tool.scope].append(name)
    return {scope: tuple(sorted(names)) for scope, names in found.items()}


@cache
def effects() -> dict[str, Effect]:
    """Each catalogue scope's effect, the strongest of the tools it unlocks by their MCP annotations
    (mcp_resource/tools/base.py Annotations): DELETES if one is destructive, CHANGES if one is not
    read-only, READS if all are. A scope that unlocks no installed tool is CHANGES: nothing says it
    only reads. Annotations are the tools' own word, good for telling a person, never for enforcing."""
    annotations: dict[str, list[Any]] = defaultdict(list)
    for _, tool in _tools():
        annotations[tool.scope].append(tool.annotations)
    found: dict[str, Effect] = {}
    for name in SCOPE_NAMES:
        marks = annotations.get(name)
        if marks and all(a.read_only for a in marks):
            found[name] = Effect.READS
        elif marks and any(a.destructive for a in marks):
            found[name] = Effect.DELETES
        else:
            found[name] = Effect.CHANGES
    return found


@cache
def _tools() -> tuple[tuple[str, Any], ...]:
    """Every installed tool class, with its name (its entry point's)."""
    return tuple((entry_point.name, entry_point.load()) for entry_point in entry_points(group=TOOLS_ENTRY_POINT_GROUP))
