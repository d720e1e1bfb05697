"""RFC 9068 access tokens as authserver/oauth/tokens.py signs them."""

from __future__ import annotations

import pytest
from joserfc import jwt
from joserfc.errors import BadSignatureError
from joserfc.jwk import ECKey

from authserver.oauth.tokens import sign_es256


def test_es256_signatures_verify_with_joserfc():
    """RFC 7518 section 3.4: R and S are each 32 octets, left-padded, so short integers must still
    verify (about one signature in a hundred has one); 500 tokens make a miss very unlikely."""
    key = ECKey.generate_key("P-256", auto_kid=True)
    public = ECKey.import_key(key.as_dict(private=False))
    header = {"alg": "ES256", "typ": "at+jwt", "kid": key.kid}

    for n in range(500):
        token = sign_es256(header, {"sub": "client", "n": n, "name": "caf\u00e9"}, key.private_key)
        decoded = jwt.decode(token, public, algorithms=["ES256"])
        assert decoded.header == header
        assert decoded.claims == {"sub": "client", "n": n, "name": "caf\u00e9"}


def test_a_signature_over_other_claims_does_not_verify():
    key = ECKey.generate_key("P-256", auto_kid=True)
    header, payload, signature = sign_es256({"alg": "ES256"}, {"scope": "posts:read"}, key.private_key).split(".")
    _, other_payload, _ = sign_es256({"alg": "ES256"}, {"scope": "orders:write"}, key.private_key).split(".")

    with pytest.raises(BadSignatureError):
        jwt.decode(f"{header}.{other_payload}.{signature}", key, algorithms=["ES256"])
