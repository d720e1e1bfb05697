"""OAuth error text: descriptions safe to send (RFC 6749 5.2 allows only %x20-21 / %x23-5B /
%x5D-7E), and details never sent.

A refusal may carry a `detail` (node-oidc-provider's `error_detail`): what went wrong, for the
request's log line (AuthorizationServer.handle_error_response writes it) and never for the client,
whose description stays the same whatever the reason where telling them apart would help an
attacker (an unknown client and a wrong secret; a refresh token unknown or another client's).
"""

from __future__ import annotations

from typing import TypeVar

from authlib.oauth2 import OAuth2Error

Refusal = TypeVar("Refusal", bound=OAuth2Error)


def describe(text: str) -> str:
    """`text` with every character the RFC forbids (quotes, backslashes, non-ASCII) replaced by '?'."""
    return "".join(c if (" " <= c <= "~" and c not in '"\\') else "?" for c in text)


def detailed(error: Refusal, detail: str) -> Refusal:
    """`error`, carrying `detail` for the log. Authlib's error classes take no such argument, so it
    is set here, once, as the error is made."""
    error.detail = detail  # type: ignore[attr-defined]
    return error


def detail_of(error: BaseException) -> str | None:
    """The detail an error carries, if any."""
    return getattr(error, "detail", None)
