"""TLS on the endpoints that carry credentials (RFC 6749 sections 3.1 and 3.2, RFC 7591 section 5)."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache, wraps
from typing import Any

from authlib.common.security import is_secure_transport
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import InvalidRequestError

from authserver.extensions import authorization
from serving.context import current_request

HTTPS_REQUIRED = "HTTPS is required; plain http is served on loopback addresses only."


def require_secure_transport() -> None:
    """invalid_request unless this request came over https or to a loopback host.

    Authlib's rule, answered with the RFC 6749 error instead of its InsecureTransportError (which
    it raises outside its own error handling, so the code and refresh grants gave 500). Plain http
    to 127.0.0.1, [::1] or localhost stays open, since that traffic never leaves the machine: the
    development issuer, http://127.0.0.1:8000, is one. AUTHLIB_INSECURE_TRANSPORT lifts the rule.
    Behind a TLS-terminating proxy, DRAWBRIDGE_TRUSTED_PROXY_COUNT makes X-Forwarded-Proto count.
    """
    this_request = current_request()
    if not _secure(this_request.scheme, this_request.host):
        raise InvalidRequestError(HTTPS_REQUIRED)


@lru_cache(maxsize=16)
def _secure(scheme: str, host: str) -> bool:
    """Kept per scheme and Host: parsing the URL cost 3% of a client_credentials token."""
    return is_secure_transport(f"{scheme}://{host}/")


def secure_transport_only(view: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a JSON endpoint so plain http gets the RFC 6749 invalid_request before anything else."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            require_secure_transport()
        except OAuth2Error as error:
            return authorization.handle_error_response(None, error)
        return view(*args, **kwargs)

    return wrapper
