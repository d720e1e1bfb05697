"""The token endpoint's grants, one module each, all Authlib grant classes registered in
`config_oauth` (server.py); each binds its token to one resource (RFC 8707)."""

from authserver.oauth.grants.authorization_code import AuthorizationCodeGrant
from authserver.oauth.grants.client_credentials import ClientCredentialsGrant
from authserver.oauth.grants.refresh_token import RefreshTokenGrant

__all__ = ["AuthorizationCodeGrant", "ClientCredentialsGrant", "RefreshTokenGrant"]
