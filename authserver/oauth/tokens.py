"""JWT access tokens (RFC 9068): typ at+jwt, ES256 with kid, audience bound to one resource."""

from __future__ import annotations

import logging
import secrets
import time
from typing import Any

from flask import current_app
from joserfc import jwt

from authserver import keys
from shared import metrics

logger = logging.getLogger(__name__)

TOKEN_TYPE_HEADER = "at+jwt"


class AccessTokenIssuer:
    """Signs access tokens for one issuer; the grants call it once they have validated a request."""

    def __init__(self, issuer: str, ttl_seconds: int) -> None:
        self.issuer = issuer
        self.ttl_seconds = ttl_seconds

    def issue(
        self, *, client_id: str, subject: str, scope: str, audience: str, grant_type: str, grant_id: str | None = None
    ) -> dict[str, Any]:
        """A token response body (RFC 6749 section 5.1) carrying a freshly signed JWT."""
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            # RFC 9068 section 2.2: with no resource owner, sub identifies the client itself.
            "sub": subject,
            "aud": audience,
            "client_id": client_id,
            "scope": scope,
            "iat": now,
            "exp": now + self.ttl_seconds,
            "jti": secrets.token_urlsafe(16),
        }
        if grant_id:
            # Private claim: the person's grant this token belongs to, so revoking the grant
            # (a replayed code or refresh token, a withdrawn consent) kills the token at once.
            claims["grant_id"] = grant_id
        key = keys.signing_key(self.ttl_seconds)
        metrics.TOKENS_ISSUED.labels(grant_type).inc()
        header = {"alg": keys.ALGORITHM, "typ": TOKEN_TYPE_HEADER, "kid": key.kid}
        logger.info(
            "token_issued",
            extra={"grant": grant_type, "client_id": client_id, "scope": scope, "aud": audience, "jti": claims["jti"]},
        )
        return {
            "access_token": jwt.encode(header, claims, key),
            "token_type": "Bearer",
            "expires_in": self.ttl_seconds,
            "scope": scope,
        }


def token_issuer() -> AccessTokenIssuer:
    """This app's issuer (one per app: Authlib's server object is shared by every app in a process)."""
    return current_app.extensions["drawbridge.token_issuer"]
