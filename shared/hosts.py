"""The Host check both services run first: answer only for our own public names (RFC 9110 section 7.4).

A page that rebinds its own name to our address (DNS rebinding) is same-origin to itself: it sends
no foreign Origin, but its Host is its own name. So each service answers only for the host names of
its configured public URLs, plus the loopback names in development, whatever the port. Behind a
trusted proxy (DRAWBRIDGE_TRUSTED_PROXY_COUNT > 0) the name checked is the one the proxy reports in
X-Forwarded-Host, which is also the one the app builds its URLs from; deploy/proxy.conf sets it to
the client's own Host. As Django's ALLOWED_HOSTS does, names are compared without their port.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from urllib.parse import urlsplit

from flask import Flask, request

from shared.settings import Settings

logger = logging.getLogger(__name__)

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
# Operators' endpoints, called by address or service name inside the network (docker-compose's
# health checks, a Prometheus scrape). /healthz says only "ok" or not and /metrics needs its bearer
# token, so a rebound page learns nothing from either.
UNCHECKED_ENDPOINTS = frozenset({"health.healthz", "metrics.metrics"})
LOGGED_HOST_CHARACTERS = 100
# Allowed names under every port a client spells: far more than real clients use, and a bound on
# what a caller sending ports at random can make the set hold.
MAX_ACCEPTED_HOSTS = 256


class UnknownHost(Exception):
    """The request names a host this service does not answer for; each service answers it its way."""


def host_name(host: str) -> str:
    """The name in a Host value, lower-case, without port or trailing dot: '[::1]:8001' -> '::1'."""
    try:
        return (urlsplit(f"//{host}").hostname or "").rstrip(".")
    except ValueError:  # an unclosed IPv6 bracket
        return ""


def allowed_hosts(settings: Settings, public_urls: Iterable[str]) -> frozenset[str]:
    names = frozenset(host_name(urlsplit(url).netloc) for url in public_urls)
    return names if settings.is_production else names | LOOPBACK_HOSTS


def init_app(app: Flask, public_urls: Iterable[str]) -> None:
    """Refuse every request whose Host is not a name of `public_urls` (werkzeug's `request.host` is
    empty for a malformed one), before authentication or reading the body."""
    allowed = allowed_hosts(app.config["SETTINGS"], public_urls)
    accepted: set[str] = set()  # Host values found allowed, so the next request skips the parsing

    @app.before_request
    def check_host() -> None:
        raw = request.environ.get("HTTP_HOST")  # after ProxyFix: the one request.host is made of
        if raw in accepted:
            return
        if host_name(request.host) in allowed:
            if raw is not None and len(accepted) < MAX_ACCEPTED_HOSTS:
                accepted.add(raw)
            return
        if request.endpoint in UNCHECKED_ENDPOINTS:
            return
        logger.info("unknown_host_refused", extra={"host": request.headers.get("Host", "")[:LOGGED_HOST_CHARACTERS]})
        raise UnknownHost()
