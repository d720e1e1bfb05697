"""RFC 8414 metadata advertises what exists; the resource server's RFC 9728 document points to it."""

from __future__ import annotations

import httpx


def test_authorization_server_metadata_describes_the_token_endpoint(auth_app, settings):
    document = auth_app.test_client().get("/.well-known/oauth-authorization-server").json

    assert document["issuer"] == settings.issuer
    assert document["token_endpoint"] == f"{settings.issuer}/token"
    assert document["jwks_uri"] == f"{settings.issuer}/jwks"
    assert document["grant_types_supported"] == ["client_credentials"]
    assert document["scopes_supported"] == ["posts:read", "posts:write"]
    assert set(document["token_endpoint_auth_methods_supported"]) == {"client_secret_basic", "client_secret_post"}


def test_every_advertised_endpoint_answers(live_services):
    document = httpx.get(f"{live_services.auth.url}/.well-known/oauth-authorization-server", timeout=5).json()

    assert httpx.get(document["jwks_uri"], timeout=5).status_code == 200
    assert httpx.post(document["token_endpoint"], data={}, timeout=5).status_code == 400


def test_protected_resource_metadata_at_root_and_path_inserted_urls(live_services):
    """RFC 9728 section 3.1: the path-inserted form for a resource with a path; clients also try the root."""
    settings = live_services.settings
    base = live_services.mcp.url
    for url in (f"{base}/.well-known/oauth-protected-resource/mcp", f"{base}/.well-known/oauth-protected-resource"):
        document = httpx.get(url, timeout=5).json()

        assert document["resource"] == settings.resource_url
        assert document["authorization_servers"] == [settings.issuer]
        assert document["scopes_supported"] == ["posts:read", "posts:write"]
        assert document["bearer_methods_supported"] == ["header"]


def test_metadata_for_another_path_is_not_found(live_services):
    response = httpx.get(f"{live_services.mcp.url}/.well-known/oauth-protected-resource/other", timeout=5)

    assert response.status_code == 404
