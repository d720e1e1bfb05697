"""The authorization server's public keys, fetched over HTTP and cached (never its private keys)."""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.request
from collections.abc import Callable
from typing import Any

from joserfc.errors import JoseError
from joserfc.jwk import Key, KeySet

from mcp_resource.errors import KeysUnavailable

logger = logging.getLogger(__name__)

FETCH_TIMEOUT_SECONDS = 5.0
# An unknown kid triggers a refetch (a key was just rotated in), but never more often than this.
MIN_REFETCH_INTERVAL_SECONDS = 10.0

Fetch = Callable[[str], dict[str, Any]]


def fetch_json(url: str) -> dict[str, Any]:
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT_SECONDS) as response:  # noqa: S310 (URL from settings)
        return json.load(response)


class JwksCache:
    """Keys by kid, refreshed after `max_age_seconds` or when a token names a kid we lack."""

    def __init__(self, url: str, max_age_seconds: int, fetch: Fetch = fetch_json) -> None:
        self.url = url
        self.max_age_seconds = max_age_seconds
        self._fetch = fetch
        self._keys: KeySet | None = None
        self._fetched_at = float("-inf")
        self._lock = threading.Lock()

    def key(self, kid: str) -> Key | None:
        """The public key with this kid, or None if the authorization server does not publish it."""
        if self._older_than(self.max_age_seconds):
            self._refresh(self.max_age_seconds)
        found = self._find(kid)
        if found is None and self._older_than(MIN_REFETCH_INTERVAL_SECONDS):
            self._refresh(MIN_REFETCH_INTERVAL_SECONDS)
            found = self._find(kid)
        return found

    def _older_than(self, seconds: float) -> bool:
        return time.monotonic() - self._fetched_at > seconds

    def _find(self, kid: str) -> Key | None:
        if self._keys is None:
            return None
        return next((k for k in self._keys.keys if k.kid == kid), None)

    def _refresh(self, older_than: float) -> None:
        with self._lock:
            if not self._older_than(older_than):
                return  # another greenlet refreshed while this one waited
            try:
                self._keys = KeySet.import_key_set(self._fetch(self.url))
                self._fetched_at = time.monotonic()
            except (OSError, ValueError, JoseError):
                logger.warning("jwks_fetch_failed", extra={"url": self.url}, exc_info=True)
                if self._keys is None:
                    raise KeysUnavailable("cannot fetch the authorization server's keys") from None
                # Keep serving the keys we have; try again after the refetch interval.
                self._fetched_at = time.monotonic() - self.max_age_seconds + MIN_REFETCH_INTERVAL_SECONDS
