"""Resource indicators (RFC 8707): which protected resource a token is for, bound into `aud`."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import OAuth2Request


class InvalidTargetError(OAuth2Error):
    """RFC 8707 section 2: the requested resource is invalid, unknown or malformed."""

    error = "invalid_target"
    status_code = 400


def canonical(uri: str) -> str:
    """Scheme and host are case-insensitive (RFC 3986 section 6.2.2.1); the rest is compared as sent."""
    parts = urlsplit(uri)
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path, parts.query, parts.fragment))


def resolve_audience(requested: list[str], known: tuple[str, ...]) -> str:
    """The one known resource the token is for; the first known one when the client names none."""
    if not requested:
        return known[0]
    if len(requested) > 1:
        raise InvalidTargetError("Request one resource per token.")
    parts = urlsplit(requested[0])
    # RFC 8707 section 2: an absolute URI that MUST NOT include a fragment component.
    if not parts.scheme or not parts.netloc or parts.fragment:
        raise InvalidTargetError("The resource must be an absolute URI without a fragment.")
    wanted = canonical(requested[0])
    for resource in known:
        if canonical(resource) == wanted:
            return resource
    raise InvalidTargetError("The resource is not one this server issues tokens for.")


def requested_resources(request: OAuth2Request) -> list[str]:
    """The `resource` parameters of an authorization or token request, as Authlib read them."""
    payload = request.payload
    if payload is None:  # Authlib sets it on every authorization and token request
        return []
    return payload.datalist.get("resource", [])


def same_resource(request: OAuth2Request, bound: str) -> str:
    """RFC 8707 on a token request for an existing grant: no resource, or the one it was granted for."""
    requested = requested_resources(request)
    if requested and (len(requested) > 1 or canonical(requested[0]) != canonical(bound)):
        raise InvalidTargetError("The resource differs from the one this grant was made for.")
    return bound
