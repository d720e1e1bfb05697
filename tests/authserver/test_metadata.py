"""RFC 8414 metadata advertises what exists; the resource server's RFC 9728 document points to it."""

from __future__ import annotations

import httpx
import pytest
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata

from shared import scopes


@pytest.mark.parametrize("path", ["/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"])
def test_metadata_advertises_every_endpoint_grant_and_method(auth_app, settings, path):
    document = auth_app.test_client().get(path).json

    AuthorizationServerMetadata(document).validate()  # Authlib's RFC 8414 rules
    assert document["issuer"] == settings.issuer
    assert document["authorization_endpoint"] == f"{settings.issuer}/authorize"
    assert document["token_endpoint"] == f"{settings.issuer}/token"
    assert document["registration_endpoint"] == f"{settings.issuer}/register"
    assert document["jwks_uri"] == f"{settings.issuer}/jwks"
    assert document["grant_types_supported"] == ["authorization_code", "refresh_token", "client_credentials"]
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert document["response_types_supported"] == ["code"]
    assert document["scopes_supported"] == sorted(scopes.SCOPE_NAMES)
    assert set(document["token_endpoint_auth_methods_supported"]) == {"client_secret_basic", "client_secret_post", "none"}
    assert document["authorization_response_iss_parameter_supported"] is True
    assert document["client_id_metadata_document_supported"] is True
    # RFC 7009 and RFC 7662, as RFC 8414 section 2 names them: public clients revoke by client_id
    # alone; only confidential clients introspect.
    assert document["revocation_endpoint"] == f"{settings.issuer}/revoke"
    assert document["revocation_endpoint_auth_methods_supported"] == ["client_secret_basic", "client_secret_post", "none"]
    assert document["introspection_endpoint"] == f"{settings.issuer}/introspect"
    assert document["introspection_endpoint_auth_methods_supported"] == ["client_secret_basic", "client_secret_post"]


def test_every_advertised_endpoint_answers(live_services):
    document = httpx.get(f"{live_services.auth.url}/.well-known/oauth-authorization-server", timeout=5).json()

    assert httpx.get(document["jwks_uri"], timeout=5).status_code == 200
    assert httpx.post(document["token_endpoint"], data={}, timeout=5).status_code == 400
    assert httpx.post(document["registration_endpoint"], json={}, timeout=5).status_code == 400
    assert httpx.get(document["authorization_endpoint"], timeout=5).status_code == 400
    assert httpx.post(document["revocation_endpoint"], data={"token": "t"}, timeout=5).status_code == 401
    assert httpx.post(document["introspection_endpoint"], data={"token": "t"}, timeout=5).status_code == 401


def test_protected_resource_metadata_at_root_and_path_inserted_urls(live_services):
    """RFC 9728 section 3.1: the path-inserted form for a resource with a path; clients also try the root."""
    settings = live_services.settings
    base = live_services.mcp.url
    for url in (f"{base}/.well-known/oauth-protected-resource/mcp", f"{base}/.well-known/oauth-protected-resource"):
        document = httpx.get(url, timeout=5).json()

        assert document["resource"] == settings.resource_url
        assert document["authorization_servers"] == [settings.issuer]
        assert document["scopes_supported"] == sorted(scopes.SCOPE_NAMES)
        assert document["bearer_methods_supported"] == ["header"]


def test_metadata_for_another_path_is_not_found(live_services):
    response = httpx.get(f"{live_services.mcp.url}/.well-known/oauth-protected-resource/other", timeout=5)

    assert response.status_code == 404
