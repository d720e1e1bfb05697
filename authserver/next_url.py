"""Where login sends a person afterwards: only back to a request this server issued, never an open
redirector (RFC 6749 section 10.15)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit

from flask import url_for

# The pages that send a person to log in with a `next`: /authorize, with the client's request, and
# the pages only a signed-in person sees (views/pages.signed_in_only), the admin console's and the
# operations pages among them.
ISSUING_ENDPOINTS = (
    "consent.authorize", "account.home", "account.password", "connected_apps.index",
    "admin.index", "admin.clients_index", "admin.people_index", "admin.grants_index", "admin.keys_index",
    "admin.registration_tokens_index", "admin.tools_index", "dashboard.index", "dashboard.audit",
)


def safe_next(target: str | None) -> str:
    """The page `target` names if this server issued it, rebuilt from its path and re-encoded query;
    otherwise the signed-in page.

    Checking the raw string is not enough: browsers drop tabs and newlines from a URL and read a
    backslash as a slash, so `/\t/evil.example` arrives at `//evil.example`, another origin. So a
    target with any character outside printable ASCII, or a backslash, is refused outright, and of
    the rest only a known path passes, followed by a query that is parsed and encoded anew: nothing
    of the raw string reaches the Location header.
    """
    fallback = url_for("account.home")
    if not target or not target.isascii() or not target.isprintable() or "\\" in target:
        return fallback
    try:
        parts = urlsplit(target)
    except ValueError:
        return fallback
    issued = {url_for(endpoint) for endpoint in ISSUING_ENDPOINTS}
    if parts.scheme or parts.netloc or parts.fragment or parts.path not in issued:
        return fallback
    query = urlencode(parse_qsl(parts.query, keep_blank_values=True))
    return f"{parts.path}?{query}" if query else parts.path
