"""A client's several secrets as authserver/oauth/client_secrets.py and Client.find_secret compare
them, and the durations operators type (authserver/cli/common.py)."""

from __future__ import annotations

import hmac
from datetime import timedelta

import click
import pytest

from authserver.cli.common import Duration
from authserver.models import Client, ClientSecret
from authserver.oauth import client_secrets
from shared.db import utcnow


def test_matching_finds_the_stored_secret_a_secret_is():
    secrets = [client_secrets.generate() for _ in range(3)]
    stored = [ClientSecret(secret_hash=client_secrets.hash_secret(s)) for s in secrets]

    assert [client_secrets.matching(s, stored) for s in secrets] == stored
    assert client_secrets.matching("not one of them", stored) is None
    assert client_secrets.matching(secrets[0], []) is None


def test_matching_compares_every_hash_in_constant_time(monkeypatch):
    """A match found early must not answer sooner than one found late: every stored hash is
    compared, each with hmac.compare_digest."""
    compared = []
    original = hmac.compare_digest

    def compare_digest(a, b):
        compared.append(b)
        return original(a, b)

    monkeypatch.setattr(client_secrets.hmac, "compare_digest", compare_digest)
    secret = client_secrets.generate()
    hashes = [client_secrets.hash_secret(secret), "0" * 64, "1" * 64]
    stored = [ClientSecret(secret_hash=h) for h in hashes]

    assert client_secrets.matching(secret, stored) is stored[0]
    assert compared == hashes


def test_a_client_finds_only_its_live_secrets():
    now = utcnow()
    old, current = client_secrets.generate(), client_secrets.generate()
    ended = ClientSecret(secret_hash=client_secrets.hash_secret(old), expires_at=now)
    live = ClientSecret(secret_hash=client_secrets.hash_secret(current), expires_at=now + timedelta(seconds=1))
    client = Client(client_id="c", secrets=[ended, live])

    assert client.find_secret(current, now) is live
    assert client.find_secret(old, now) is None
    assert client.find_secret(old, now - timedelta(microseconds=1)) is ended


def test_a_client_expires_at_its_moment():
    now = utcnow()

    assert Client(expires_at=now).expired(now)
    assert not Client(expires_at=now + timedelta(microseconds=1)).expired(now)
    assert not Client(expires_at=None).expired(now)


@pytest.mark.parametrize(("text", "seconds"), [("0", 0), ("0s", 0), ("90s", 90), ("30m", 1800), ("12h", 43200), ("7d", 604800)])
def test_durations_carry_their_unit_except_zero(text, seconds):
    assert Duration().convert(text, None, None) == seconds


@pytest.mark.parametrize("text", ["7", "d", "1.5h", "-1d", "7x", ""])
def test_other_durations_are_refused_with_an_example(text):
    with pytest.raises(click.BadParameter, match="is not a duration such as 30m, 12h or 7d"):
        Duration().convert(text, None, None)
