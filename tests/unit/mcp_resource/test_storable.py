"""What a caller chose, made storable in an audit row: U+FFFD for NUL and unpaired surrogates, a size cap."""

from __future__ import annotations

import hashlib
import json

import pytest

from mcp_resource.guardrails import storable


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("list_posts", "list_posts"),
        ("caf\u00e9 \U0001f600", "caf\u00e9 \U0001f600"),
        ("a\x00b", "a\ufffdb"),
        ("\ud800\udc00 \udfff", "\ufffd\ufffd \ufffd"),  # a str holds a pair as one character: these are unpaired
    ],
    ids=["ascii", "non-ascii", "nul", "surrogates"],
)
def test_text(given, stored):
    assert storable.text(given) == stored


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ({"post_id": 1}, {"post_id": 1}),
        ({"note": "\U0001f600"}, {"note": "\U0001f600"}),
        ({"note": "x\x00y", "\ud800": ["\udc00"]}, {"note": "x\ufffdy", "\ufffd": ["\ufffd"]}),
        ({"path": "C:\\u0000\\ud800", "quote": '"\\'}, {"path": "C:\\u0000\\ud800", "quote": '"\\'}),  # text, not escapes
        ({"n": float("nan"), "m": [float("-inf")]}, {"n": None, "m": [None]}),
    ],
    ids=["plain", "surrogate-pair", "nul-and-unpaired", "escaped-backslash", "nan-and-infinity"],
)
def test_arguments_under_the_cap_are_kept_whole_and_storable(given, stored):
    kept = storable.arguments(given, keep_values=True, max_bytes=1024)

    assert (kept.value, kept.sha256) == (stored, None)


def test_arguments_past_the_cap_are_a_cut_copy_with_size_and_digest():
    given = {"blob": "x" * 100}
    serialised = json.dumps(given, separators=(",", ":"))

    kept = storable.arguments(given, keep_values=True, max_bytes=16)

    assert (kept.value, kept.size_bytes, kept.sha256) == (serialised[:16], len(serialised), hashlib.sha256(serialised.encode()).hexdigest())


def test_without_values_only_the_size_is_kept():
    assert storable.arguments({"password": "hunter2"}, keep_values=False, max_bytes=1024) == storable.Arguments(None, 22, None)
    assert storable.arguments(["not", "an", "object"], keep_values=True, max_bytes=1024) == storable.NONE
