"""Resources and prompts as tools are (tools/registry.py): one class each, found through an entry
point group, checked at start-up with a refusal that names the broken one, and listed per token."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import lru_cache
from importlib.metadata import entry_points
from typing import Any, Generic, Protocol, TypeVar

from shared import scopes


class CatalogueError(Exception):
    """A resource or prompt cannot be loaded; the message names it and what is wrong."""


class Listed(Protocol):
    @property
    def key(self) -> str:
        """What names it uniquely: a resource's URI or URI template, a prompt's name."""

    @property
    def scope(self) -> str: ...

    def listing(self) -> dict[str, Any]: ...


Item = TypeVar("Item", bound=Listed)


class Catalogue(Generic[Item]):
    """Items by key, in key order, with the listings each set of scopes sees, built once per set."""

    def __init__(self, noun: str, items: Iterable[Item]) -> None:
        self.noun = noun
        found: dict[str, Item] = {}
        for item in items:
            if item.key in found:
                raise CatalogueError(f"Two {noun}s are named {item.key!r}; each must be unique.")
            found[item.key] = item
        self.items = dict(sorted(found.items()))
        self._listings = {key: item.listing() for key, item in self.items.items()}
        self._visible = lru_cache(maxsize=256)(self._compute_visible)

    def get(self, key: str) -> Item | None:
        return self.items.get(key)

    def visible_to(self, granted: frozenset[str]) -> tuple[Item, ...]:
        """The items a token with these scopes may use, in key order."""
        return self._visible(granted)[0]

    def listings_visible_to(self, granted: frozenset[str]) -> tuple[dict[str, Any], ...]:
        return self._visible(granted)[1]

    def _compute_visible(self, granted: frozenset[str]) -> tuple[tuple[Item, ...], tuple[dict[str, Any], ...]]:
        keys = [key for key, item in self.items.items() if item.scope in granted]
        return tuple(self.items[key] for key in keys), tuple(self._listings[key] for key in keys)


def load(group: str, base: type[Any], noun: str, check: Callable[[str, Any], None]) -> list[Any]:
    """One instance of each class the entry points of `group` name, once `check` accepts it."""
    loaded = []
    for entry_point in entry_points(group=group):
        where = f"{noun.capitalize()} {entry_point.name!r}"
        try:
            item_class = entry_point.load()
        except Exception as error:
            raise CatalogueError(f"{where} ({entry_point.value}) fails to import: {error!r}") from error
        if not (isinstance(item_class, type) and issubclass(item_class, base)):
            raise CatalogueError(f"{where} is not a subclass of {base.__module__}.{base.__qualname__}.")
        declared = {attribute: getattr(item_class, attribute, None) for attribute in ("name", "description", "scope")}
        for attribute, value in declared.items():
            if not isinstance(value, str):
                raise CatalogueError(f"{where} does not declare {attribute!r} as text.")
        if declared["name"] != entry_point.name:
            raise CatalogueError(f"{where} declares name {declared['name']!r}; the entry point must use the same name.")
        if declared["scope"] not in scopes.SCOPE_NAMES:
            raise CatalogueError(f"{where} requires scope {declared['scope']!r}, which is not in shared/scopes.py.")
        check(where, item_class)
        loaded.append(item_class())
    return loaded
