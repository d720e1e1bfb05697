"""The scope catalogue: each scope's name, its meaning in plain words, and the tools it unlocks."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from importlib.metadata import entry_points

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
    for entry_point in entry_points(group=TOOLS_ENTRY_POINT_GROUP):
        found[entry_point.load().scope].append(entry_point.name)
    return {scope: tuple(sorted(names)) for scope, names in found.items()}
