"""Wires Authlib's authorization server to our clients, grants and token issuer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from authlib.integrations.flask_oauth2 import AuthorizationServer as FlaskAuthorizationServer
from authlib.oauth2 import OAuth2Error, rfc9207
from authlib.oauth2.rfc6749 import InvalidClientError, OAuth2Request
from flask import Flask, Response, g

from authserver.oauth.cimd import ClientDocumentError
from authserver.oauth.client_lookup import CLIENT_AUTHENTICATION_FAILED, query_client
from authserver.oauth.errors import detail_of, detailed
from authserver.oauth.grants import AuthorizationCodeGrant, ClientCredentialsGrant, RefreshTokenGrant
from authserver.oauth.introspection import IntrospectionEndpoint
from authserver.oauth.pkce import S256CodeChallenge
from authserver.oauth.revocation import RevocationEndpoint
from authserver.oauth.tokens import token_issuer
from shared import metrics, scopes
from shared.logging import error_answered

# The `g` attribute holding the OAuth error code a request was answered with.
ANSWERED_ERROR = "oauth_error_answered"


class AuthorizationServer(FlaskAuthorizationServer):
    """Authlib's Flask server, counting and logging its errors and taking the token view's request as made."""

    if TYPE_CHECKING:
        # types-authlib types the generic server's answers (`object`; a status, body and headers
        # tuple); the Flask server's are what its handle_response makes of those: Flask Responses.
        def create_authorization_response(self, request=None, grant_user=None, grant=None) -> Response: ...
        def create_token_response(self, request=None) -> Response: ...  # type: ignore[override]
        def create_endpoint_response(self, name, request=None) -> Response: ...

    # The Flask server's stubs promise its own request class; a TokenRequest is an OAuth2Request as well.
    def create_oauth2_request(self, request) -> OAuth2Request:  # type: ignore[override]
        """The request a caller made already (the token view's TokenRequest, token_form.py), else
        Authlib's over Flask's request."""
        return request if isinstance(request, OAuth2Request) else super().create_oauth2_request(request)

    def authenticate_client(self, request, methods, endpoint="token"):
        """Authlib's client authentication, every failure described alike (CLIENT_AUTHENTICATION_FAILED),
        so a caller cannot tell an unknown client from a wrong secret: Authlib's own words for it
        become the detail. A client metadata document that cannot be used is the exception: it is
        the client's own, so what is wrong with it is said (cimd.py). A Basic header (RFC 7617) whose
        credentials are not UTF-8 fails as every other: 401 invalid_client (Authlib lets the decoding
        error escape)."""
        try:
            return super().authenticate_client(request, methods, endpoint)
        except ClientDocumentError:
            raise
        except UnicodeDecodeError:
            refusal = InvalidClientError(status_code=401, description=CLIENT_AUTHENTICATION_FAILED)
            raise detailed(refusal, "the Basic credentials are not UTF-8") from None
        except InvalidClientError as error:
            refusal = InvalidClientError(status_code=error.status_code, description=CLIENT_AUTHENTICATION_FAILED)
            raise detailed(refusal, error.description or "client authentication failed") from None

    def create_authorization_error_response(self, error: OAuth2Error) -> Response:
        """The redirect for an authorization request refused before a grant could answer it
        (get_consent_grant raised), through the hooks create_authorization_response runs, so it names
        the issuer as well (RFC 9207 section 2: "including error responses")."""
        response = self.handle_error_response(None, error)
        self.execute_hook("after_create_authorization_response", response)
        return response

    def handle_error_response(self, request, error) -> Response:
        """Every OAuth error response: counted, and its detail (oauth/errors.py) logged, never sent.
        Its code is kept in `g` for the view's own count (ANSWERED_ERROR)."""
        setattr(g, ANSWERED_ERROR, error.error or "error")
        metrics.ERRORS.labels("authserver", error.error or "error").inc()
        error_answered(error.error or "error", error.status_code, detail_of(error))
        return super().handle_error_response(request, error)  # type: ignore[return-value]  # see above


class IssuerParameter(rfc9207.IssuerParameter):
    """RFC 9207: every authorization response, errors included, names its issuer, so a client talking
    to several servers cannot be sent another server's code (mix-up attacks)."""

    def get_issuer(self) -> str:
        return token_issuer().issuer


#: One for every app in the process: Authlib keeps hooks in a set, so registering it again adds nothing.
ISSUER_PARAMETER = IssuerParameter()


def save_token(token: dict, request: object) -> None:
    """Access tokens are self-contained JWTs and the grants store refresh tokens themselves."""


def config_oauth(app: Flask, server: AuthorizationServer) -> None:
    """The one place Authlib's grants (oauth/grants/), endpoints (revocation, introspection) and
    extensions are registered; the views only hand Authlib the request. client_credentials comes
    first: it is the token endpoint's busiest grant, and Authlib tries the grants in order.
    Registration (RFC 7591, RFC 7592) is served by our own views, not Authlib endpoints registered
    here: registration.py says why."""
    app.config["OAUTH2_SCOPES_SUPPORTED"] = sorted(scopes.SCOPE_NAMES)
    server.init_app(app, query_client=query_client, save_token=save_token)
    server.register_grant(ClientCredentialsGrant)
    server.register_grant(AuthorizationCodeGrant, [S256CodeChallenge(required=True)])
    server.register_grant(RefreshTokenGrant)
    server.register_endpoint(RevocationEndpoint)
    server.register_endpoint(IntrospectionEndpoint)
    server.register_extension(ISSUER_PARAMETER)
