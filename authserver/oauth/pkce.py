"""Proof Key for Code Exchange (RFC 7636), S256 only, required of every client."""

from __future__ import annotations

import hashlib
import hmac
from base64 import urlsafe_b64encode

from authlib.oauth2.rfc6749 import InvalidGrantError, InvalidRequestError
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7636.challenge import CODE_CHALLENGE_PATTERN, CODE_VERIFIER_PATTERN

METHOD = "S256"


def s256(verifier: str) -> str:
    return urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()


class S256CodeChallenge(CodeChallenge):
    """Authlib's extension treats a missing method as `plain` and checks only public clients'
    verifiers; ours refuses a missing challenge or any method but S256, for every client."""

    SUPPORTED_CODE_CHALLENGE_METHOD = [METHOD]

    def validate_code_challenge(self, grant, redirect_uri: str) -> None:
        data, datalist = grant.request.payload.data, grant.request.payload.datalist
        challenge = data.get("code_challenge")
        method = data.get("code_challenge_method")
        if len(datalist.get("code_challenge", [])) > 1 or len(datalist.get("code_challenge_method", [])) > 1:
            raise InvalidRequestError("Send code_challenge and code_challenge_method once each.", redirect_uri=redirect_uri)
        if not challenge:
            raise InvalidRequestError("PKCE is required: send code_challenge with code_challenge_method=S256.", redirect_uri=redirect_uri)
        if method != METHOD:
            raise InvalidRequestError("Only code_challenge_method=S256 is supported.", redirect_uri=redirect_uri)
        if not CODE_CHALLENGE_PATTERN.match(challenge):
            raise InvalidRequestError("The code_challenge is malformed.", redirect_uri=redirect_uri)

    def validate_code_verifier(self, grant, result) -> None:
        verifier = grant.request.form.get("code_verifier")
        if not verifier:
            raise InvalidRequestError("Missing code_verifier.")
        if not CODE_VERIFIER_PATTERN.match(verifier):
            raise InvalidRequestError("The code_verifier is malformed.")
        code = grant.request.authorization_code
        # RFC 7636 4.6: a mismatch MUST be answered with invalid_grant.
        if code.code_challenge_method != METHOD or not hmac.compare_digest(s256(verifier), code.code_challenge):
            raise InvalidGrantError("The code_verifier does not match the code_challenge.")
