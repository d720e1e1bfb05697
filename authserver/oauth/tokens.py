"""JWT access tokens (RFC 9068): typ at+jwt, ES256 with kid, audience bound to one resource."""

from __future__ import annotations

import base64
import json
import logging
import secrets
import time
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ec import ECDSA, EllipticCurvePrivateKey
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.hashes import SHA256

from authserver import keys
from authserver.services import services

logger = logging.getLogger(__name__)

TOKEN_TYPE_HEADER = "at+jwt"
ES256 = ECDSA(SHA256())
ES256_COORDINATE_BYTES = 32


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
        private_key = key.private_key
        if private_key is None:  # keys.signing_key loads private keys; a public one here cannot sign
            raise keys.NoSigningKeyError(f"the signing key {key.kid} has no private part")
        header = {"alg": keys.ALGORITHM, "typ": TOKEN_TYPE_HEADER, "kid": key.kid}
        logger.info(
            "token_issued",
            extra={"grant": grant_type, "client_id": client_id, "scope": scope, "aud": audience, "jti": claims["jti"]},
        )
        return {
            "access_token": sign_es256(header, claims, private_key),
            "token_type": "Bearer",
            "expires_in": self.ttl_seconds,
            "scope": scope,
        }


def sign_es256(header: dict[str, Any], claims: dict[str, Any], private_key: EllipticCurvePrivateKey) -> str:
    """A compact JWS (RFC 7515 section 7.1) signed with ES256, whose signature is R || S as 32-byte
    big-endian integers (RFC 7518 section 3.4). Written out because signing is the token endpoint's
    largest cost after the HTTP stack, and joserfc's general path added about 45 us per token; the
    keys and the JWKS stay joserfc's, and the MCP server verifies with joserfc."""
    signing_input = _b64(json.dumps(header, separators=(",", ":")).encode()) + b"." + _b64(json.dumps(claims, separators=(",", ":")).encode())
    r, s = decode_dss_signature(private_key.sign(signing_input, ES256))
    signature = r.to_bytes(ES256_COORDINATE_BYTES, "big") + s.to_bytes(ES256_COORDINATE_BYTES, "big")
    return (signing_input + b"." + _b64(signature)).decode()


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def token_issuer() -> AccessTokenIssuer:
    """This app's issuer (one per app: Authlib's server object is shared by every app in a process)."""
    return services().token_issuer
