"""Redirect URIs (RFC 6749 section 3.1.2): what may be registered, exact matching with RFC 8252's
loopback port rule, and the host a browser will visit."""

from __future__ import annotations

import hashlib
import json
import re
from urllib.parse import urlsplit

import ada_url

# Loopback redirect URIs, read from the raw string so nothing is normalised: the scheme and host in
# lower case exactly as written, an optional port, and the rest compared byte for byte.
_LOOPBACK = re.compile(r"^http://(127\.0\.0\.1|\[::1\]|localhost)(?::(\d{1,5}))?(/[^#]*)?$")
# RFC 3986 section 2: unreserved and reserved characters, and percent-encodings.
URI_CHARACTERS = re.compile(r"(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*")


class RedirectUriError(ValueError):
    """A redirect URI that may not be registered; the message says why."""


def is_loopback(uri: str) -> bool:
    return _LOOPBACK.match(uri) is not None


def check_registrable(uri: str) -> None:
    """https anywhere, or http on a loopback host (RFC 8252 7.3); never a fragment (RFC 6749 3.1.2);
    only RFC 3986 characters, and a host browsers read as we do."""
    if not URI_CHARACTERS.fullmatch(uri):
        raise RedirectUriError(
            f"{uri} has characters RFC 3986 does not allow: spaces, backslashes, control or non-ASCII "
            "characters, or a % without two hex digits."
        )
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 (raises ValueError for a bad port)
    except ValueError:
        raise RedirectUriError(f"{uri} is not a valid URI.") from None
    if "#" in uri:
        raise RedirectUriError(f"{uri} has a fragment; redirect URIs must not.")
    if parts.username is not None or parts.password is not None:
        raise RedirectUriError(f"{uri} carries user information; redirect URIs must not.")
    if not (parts.scheme == "https" and parts.hostname) and not is_loopback(uri):
        raise RedirectUriError(f"{uri} must be an https URL, or http on 127.0.0.1, [::1] or localhost.")
    # The consent page names the host a browser goes to. Where a browser reads another host than
    # RFC 3986 does (numeric IPv4 forms such as 0x7f.1, percent-encoded hosts), refuse the URI.
    visited = browser_host(uri)
    if visited is None:
        raise RedirectUriError(f"{uri} is not a URL a browser can open.")
    if visited.strip("[]") != parts.hostname:
        raise RedirectUriError(f"{uri} would take a browser to {visited}, not to {parts.hostname}.")


def matches(requested: str, registered: list[str]) -> bool:
    """Exact string match, except that a loopback URI may use any port (RFC 8252 section 7.3)."""
    if requested in registered:
        return True
    wanted = _loopback_without_port(requested)
    return wanted is not None and any(_loopback_without_port(uri) == wanted for uri in registered)


def fingerprint(registered: list[str]) -> str:
    """SHA-256 of a client's set of redirect URIs: equal exactly when the set is (order aside)."""
    return hashlib.sha256(json.dumps(sorted(set(registered))).encode()).hexdigest()


def _loopback_without_port(uri: str) -> tuple[str, str] | None:
    match = _LOOPBACK.match(uri)
    return (match.group(1), match.group(3) or "") if match else None


def browser_host(uri: str) -> str | None:
    """The host a browser visits for `uri`, parsed as the WHATWG URL Standard says (ada, the parser
    Node.js uses); None if a browser cannot parse it."""
    try:
        return ada_url.URL(uri).hostname or None
    except ValueError:
        return None


def host_of(uri: str) -> str:
    """The host a person should see on the consent page: the one their browser will go to."""
    return browser_host(uri) or uri
