"""The scope catalogue's effects: what a scope lets a client do to the data, by its tools' annotations."""

from __future__ import annotations

from shared import scopes
from shared.scopes import Effect


def test_each_demo_scope_reads_changes_or_deletes_as_its_tools_say():
    """orders:write unlocks cancel_order (destructive); posts:write create_post, update_post and
    publish_post (not read-only); the read scopes and reports:run only read-only tools."""
    effects = scopes.effects()

    assert {name: effects[name] for name in (s.name for s in scopes.CORE_SCOPES)} == {
        "customers:read": Effect.READS,
        "products:read": Effect.READS,
        "orders:read": Effect.READS,
        "orders:write": Effect.DELETES,
        "posts:read": Effect.READS,
        "posts:write": Effect.CHANGES,
        "reports:run": Effect.READS,
    }


def test_every_scope_in_the_catalogue_has_an_effect_and_its_words():
    assert set(scopes.effects()) == scopes.SCOPE_NAMES == set(scopes.descriptions())
