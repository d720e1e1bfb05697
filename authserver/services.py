"""AuthServices: everything the authorization server keeps for the life of its app, typed, built
once by create_app. One loop runs in the background of each worker: the key watcher, started by
`start()` after gunicorn's fork (serving/hooks.py); under any other server, a rotation reaches the
process when its copy of the keys goes stale (keys.KEY_CACHE_SECONDS)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import Flask

from shared import services as shared_services

if TYPE_CHECKING:  # these modules read their services through `services()`: no import at run time
    from authserver.key_watcher import KeyWatcher
    from authserver.keys import KeyState
    from authserver.login_throttle import LoginThrottle
    from authserver.models import Client
    from authserver.oauth.cimd_fetch import DocumentFetcher
    from authserver.oauth.tokens import AccessTokenIssuer
    from authserver.throttle import Counter
    from shared.cache import RefreshingCache


@dataclass(eq=False)
class AuthServices(shared_services.Services):
    token_issuer: AccessTokenIssuer
    # Enabled clients, for the client_credentials grant (oauth/client_lookup.py).
    recent_clients: RefreshingCache[str, Client]
    keys: KeyState
    key_watcher: KeyWatcher
    # The token endpoint's per-client counts (throttle.py) and the login form's (login_throttle.py).
    counter: Counter
    login_throttle: LoginThrottle
    # Client metadata documents, fetched only from public addresses (oauth/cimd_fetch.py).
    client_documents: DocumentFetcher

    def start(self) -> None:
        self.key_watcher.start()

    def stop(self) -> None:
        self.key_watcher.stop()


def services(app: Flask | None = None) -> AuthServices:
    """The authorization server's services: of `app`, or of the app handling this request."""
    found = shared_services.of(app)
    if not isinstance(found, AuthServices):
        raise RuntimeError("not an authorization server app (authserver.create_app)")
    return found
