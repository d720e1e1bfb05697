"""Bearer token -> Principal, checked locally against the cached JWKS (RFC 9068 section 4)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwt import JWTClaimsRegistry

from mcp_resource.errors import InvalidToken, MissingToken
from mcp_resource.jwks import JwksCache
from shared import revocation
from shared.logging import failure_detail, quoted
from shared.revocation import Revocations

ALGORITHMS = ["ES256"]
ACCEPTED_TYPES = ("at+jwt", "application/at+jwt")
CLOCK_LEEWAY_SECONDS = 30
VERIFIED_CACHE_SIZE = 10_000
REVOKED = "The access token was revoked."
NOT_OURS = "The token was not signed by the authorization server."


@dataclass(frozen=True)
class Principal:
    """Who is calling: the client, the subject it acts for, and what its token allows."""

    client_id: str
    subject: str
    scopes: frozenset[str]
    token_id: str
    expires_at: int
    grant_id: str | None = None
    issued_at: int = 0

    @property
    def person(self) -> str | None:
        """The person the token acts for: the `sub` of a token with a grant (RFC 9068 section 2.2);
        None for a client acting for itself, whose `sub` is the client."""
        return self.subject if self.grant_id else None


class TokenVerifier:
    """Checks signature, `typ`, issuer, audience and expiry without calling the authorization server."""

    def __init__(self, issuer: str, audience: str, jwks: JwksCache, revocations: Revocations) -> None:
        self.jwks = jwks
        self.revocations = revocations
        self._verified: dict[str, Principal] = {}
        self.claims = JWTClaimsRegistry(
            leeway=CLOCK_LEEWAY_SECONDS,
            iss={"essential": True, "value": issuer},
            # RFC 8707 / MCP: a token must name this server in `aud`, else it was meant for another.
            aud={"essential": True, "value": audience},
            exp={"essential": True},
            iat={"essential": True},
            sub={"essential": True},
            client_id={"essential": True},
            jti={"essential": True},
        )

    def verify_header(self, authorization: str | None, check_revocation: bool = True) -> Principal:
        """The Principal for an `Authorization: Bearer` header value. Without `check_revocation`
        the caller must check it before answering (a tools/call does, with its rate limit)."""
        if not authorization:
            raise MissingToken("Authentication required: send an OAuth access token as a Bearer token.")
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise InvalidToken("The Authorization header must be 'Bearer <access token>'.")
        principal = self.verify(token)
        if check_revocation:
            self.check_revocation(principal)
        return principal

    def check_revocation(self, principal: Principal) -> None:
        if self.revocations.any_revoked(revocation_entries(principal), principal.issued_at):
            raise InvalidToken(REVOKED)

    def verify(self, token: str) -> Principal:
        """Signature and claims, checked once per token and remembered until it expires. Revocation
        is not remembered: it is checked on every request, so a revoked token fails at once."""
        principal = self._verified.get(token)
        if principal is None or principal.expires_at + CLOCK_LEEWAY_SECONDS < time.time():
            principal = self._verify_signed(token)
            if len(self._verified) >= VERIFIED_CACHE_SIZE:
                self._verified.clear()  # simplest bound; live tokens are re-verified once
            self._verified[token] = principal
        return principal

    def _verify_signed(self, token: str) -> Principal:
        try:
            header = jws.extract_compact(token.encode()).protected
        except (JoseError, ValueError) as error:
            raise InvalidToken("The access token is not a well-formed JWT.", detail=failure_detail(error)) from None
        # RFC 9068 section 4: reject tokens whose typ is not at+jwt (and so never accept an ID token).
        if str(header.get("typ", "")).lower() not in ACCEPTED_TYPES:
            raise InvalidToken("The token is not an access token (typ must be at+jwt).", detail=f"its header's typ is {quoted(header.get('typ'))}")
        if header.get("alg") not in ALGORITHMS:
            raise InvalidToken("The token is signed with an algorithm this server does not accept.", detail=f"its header's alg is {quoted(header.get('alg'))}")
        kid = str(header.get("kid", ""))
        key = self.jwks.key(kid)
        if key is None:
            raise InvalidToken(NOT_OURS, detail=f"kid {quoted(kid)} is not among the authorization server's published keys")
        try:
            claims = jwt.decode(token, key, algorithms=ALGORITHMS).claims
        except JoseError as error:
            raise InvalidToken(_describe(error), detail=f"{error.error} with the published key {quoted(kid)}") from None
        try:
            self.claims.validate(claims)
        except JoseError as error:
            raise InvalidToken(_describe(error), detail=_claim_detail(error, claims)) from None
        scope = claims.get("scope", "")
        grant_id = claims.get("grant_id")
        return Principal(
            client_id=str(claims["client_id"]),
            subject=str(claims["sub"]),
            scopes=frozenset(scope.split() if isinstance(scope, str) else ()),
            token_id=str(claims["jti"]),
            expires_at=int(claims["exp"]),
            grant_id=str(grant_id) if grant_id else None,
            issued_at=int(claims["iat"]),
        )


def revocation_entries(principal: Principal) -> list[tuple[str, str]]:
    """The entries of the revocation set that could void this token (`revocation.entries_of`)."""
    return revocation.entries_of(principal.token_id, principal.client_id, principal.subject, principal.grant_id)


def _describe(error: JoseError) -> str:
    """A description a client can act on, from joserfc's error codes (no internal text)."""
    messages = {
        "expired_token": "The access token has expired.",
        "bad_signature": NOT_OURS,
        "invalid_token": "The token is not valid yet.",
        "missing_claim": "The token lacks a required claim.",
        "invalid_claim": "The token was issued by another server or for another resource.",
    }
    return messages.get(error.error, "The access token is invalid.")


def _claim_detail(error: JoseError, claims: dict) -> str:
    """Which claim was refused and what it holds: the signature verified, so these are the
    authorization server's own values (an `aud` for another resource, an `exp` in the past)."""
    claim = getattr(error, "claim", None)
    if claim is None:
        return f"{error.error}: {error.description}"
    detail = f"{error.error}: {claim} is {quoted(claims.get(claim))}"
    return f"{detail}, now {int(time.time())}" if claim in ("exp", "iat", "nbf") else detail
