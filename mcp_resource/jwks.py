"""The authorization server's public keys, a JWK Set (RFC 7517 section 5): fetched, cached, kept in Redis.

The worker serves many requests at once (gevent), so a fetch must hold up no request whose key it
already has, and tokens under made-up kids must not each cost a fetch. Hence: at most one fetch in
flight per process, in a greenlet of its own; after each attempt, whether it succeeded or failed,
none for the refetch interval; a known kid is answered from the cache even while its set is being
refreshed; an unknown kid waits for the fetch in flight (FETCH_TIMEOUT_SECONDS at most), and within
the interval it is simply unknown. Each fetched set is also stored in Redis, so a worker started
while the authorization server is away still verifies the tokens it signed; a worker that can reach
it uses what it fetches.
"""

from __future__ import annotations

import http.client
import json
import logging
import threading
import time
import urllib.request
from collections.abc import Callable
from typing import Any, cast

import redis
from joserfc.errors import JoseError
from joserfc.jwk import Key, KeySet, KeySetSerialization

from mcp_resource.errors import KeysUnavailable
from shared import redis as drawbridge_redis

logger = logging.getLogger(__name__)

# Per connect and per read of a fetch, and the longest a request waits for one in flight.
FETCH_TIMEOUT_SECONDS = 2.0
MAX_JWKS_BYTES = 64 * 1024
# How long a worker with no keys yet waits for its first fetch before it takes the set stored in Redis.
FIRST_FETCH_WAIT_SECONDS = 1.0
# A stored set is rewritten after every successful fetch, so it ages only while no worker reaches
# the authorization server; a worker started after a week of that answers 503 rather than trust it.
STORED_JWKS_TTL_SECONDS = 7 * 24 * 3600

FETCH_ERRORS = (OSError, http.client.HTTPException, ValueError, JoseError)

Fetch = Callable[[str], Any]


def fetch_json(url: str) -> Any:
    """The JSON document at `url`, refused past MAX_JWKS_BYTES."""
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT_SECONDS) as response:  # noqa: S310 (URL from settings)
        body = response.read(MAX_JWKS_BYTES + 1)
    if len(body) > MAX_JWKS_BYTES:
        raise ValueError(f"the JWKS is larger than {MAX_JWKS_BYTES} bytes")
    return json.loads(body)


def parse_jwks(document: Any) -> KeySet:
    """The keys of a JWK Set document; ValueError or JoseError if it is not one of public keys."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ValueError("not a JWK Set: no 'keys' array")
    keys = KeySet.import_key_set(cast(KeySetSerialization, document))  # a dict with a "keys" list; joserfc checks each key
    # A set to verify with holds no secret: a private or symmetric key here is a leak, never used.
    if any(key.is_private for key in keys.keys):
        raise ValueError("the JWK Set holds a private or symmetric key")
    return keys


class JwksCache:
    """Keys by kid, refreshed in the background once `max_age_seconds` old, or when a token names a
    kid we lack; never fetched again within `refetch_interval_seconds` of the last attempt."""

    def __init__(
        self,
        url: str,
        max_age_seconds: float,
        refetch_interval_seconds: float,
        redis_client: redis.Redis | None = None,
        fetch: Fetch = fetch_json,
    ) -> None:
        self.url = url
        self.max_age_seconds = max_age_seconds
        self.refetch_interval_seconds = refetch_interval_seconds
        self.redis = redis_client
        self.redis_key = drawbridge_redis.key("jwks", url)
        self._fetch = fetch
        self._keys: KeySet | None = None
        self._fetched_at = float("-inf")  # the last successful fetch
        self._attempted_at = float("-inf")  # the end of the last attempt, successful or not
        self._in_flight: threading.Event | None = None
        self._lock = threading.Lock()

    def key(self, kid: str) -> Key | None:
        """The public key with this kid, or None if the authorization server does not publish it.
        Raises KeysUnavailable if no key set is at hand at all (then no token can be checked)."""
        if self._keys is None:
            self._first_keys()
        found = self._find(kid)
        if found is not None:
            if time.monotonic() - self._fetched_at > self.max_age_seconds:
                self._refresh()  # in the background: this request goes on with the key it has
            return found
        in_flight = self._refresh()
        if in_flight is not None:
            in_flight.wait(FETCH_TIMEOUT_SECONDS)
            found = self._find(kid)
        if found is None and self._keys is None:
            raise KeysUnavailable("cannot fetch the authorization server's keys")
        return found

    def _first_keys(self) -> None:
        """A worker's first keys: fetched, as the authorization server publishes them now; the set
        stored in Redis only when no fetch answers within FIRST_FETCH_WAIT_SECONDS (the server is
        away). A stored set is never preferred to a fetched one, so what Redis holds is used only
        while the authorization server cannot be asked."""
        in_flight = self._refresh()
        if in_flight is not None:
            in_flight.wait(FIRST_FETCH_WAIT_SECONDS)
        if self._keys is None:
            stored = self._stored()
            if self._keys is None:  # the fetch may have ended meanwhile: its set is newer
                self._keys = stored

    def _find(self, kid: str) -> Key | None:
        if self._keys is None:
            return None
        return next((k for k in self._keys.keys if k.kid == kid), None)

    def _refresh(self) -> threading.Event | None:
        """Start a fetch unless one is in flight or the last attempt ended less than the refetch
        interval ago. Returns the event set when the fetch in flight ends, if there is one."""
        with self._lock:
            due = self._in_flight is None and time.monotonic() - self._attempted_at >= self.refetch_interval_seconds
            if due:
                self._in_flight = threading.Event()
            in_flight = self._in_flight
        if due:
            # A greenlet under gunicorn's gevent worker (threading is patched), a thread elsewhere;
            # started outside the lock, as starting one yields to the gevent hub.
            threading.Thread(target=self._fetch_once, args=(in_flight,), name="jwks-fetch", daemon=True).start()
        return in_flight

    def _fetch_once(self, done: threading.Event) -> None:
        try:
            document = self._fetch(self.url)
            keys = parse_jwks(document)
        except FETCH_ERRORS:
            # Keep the keys we have: the ones the authorization server published stay its keys.
            logger.warning("jwks_fetch_failed", extra={"url": self.url}, exc_info=True)
        else:
            self._keys, self._fetched_at = keys, time.monotonic()
            self._store(document)
        finally:
            with self._lock:
                self._attempted_at = time.monotonic()
                self._in_flight = None
            done.set()

    def _stored(self) -> KeySet | None:
        """The set a worker last fetched, if Redis holds one. Redis is inside our trust boundary (it
        holds the revocations too), but what it holds is still checked to be a JWK Set."""
        if self.redis is None:
            return None
        try:
            stored = self.redis.get(self.redis_key)
            return parse_jwks(json.loads(stored)) if stored is not None else None
        except redis.RedisError:
            logger.warning("jwks_store_unavailable", exc_info=True)
        except (ValueError, JoseError):
            logger.warning("jwks_stored_copy_invalid", extra={"key": self.redis_key}, exc_info=True)
        return None

    def _store(self, document: Any) -> None:
        if self.redis is None:
            return
        try:
            self.redis.set(self.redis_key, json.dumps(document), ex=STORED_JWKS_TTL_SECONDS)
        except redis.RedisError:
            logger.warning("jwks_store_unavailable", exc_info=True)
