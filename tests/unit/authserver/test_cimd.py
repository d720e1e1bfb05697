"""Client ID Metadata Documents as authserver/oauth/cimd.py and cimd_fetch.py read them: the URL,
the document, its freshness, and which addresses are special-use."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from authserver.oauth.cimd import (
    CACHE_DEFAULT_SECONDS,
    CACHE_MAX_SECONDS,
    CACHE_MIN_SECONDS,
    ClientDocumentError,
    document_url,
    fresh_seconds,
    read_document,
)
from authserver.oauth.cimd_fetch import special_use

URL = "https://app.example.com/oauth/client.json"
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=timezone.utc)
DOCUMENT = {
    "client_id": URL,
    "client_name": "Example MCP client",
    "redirect_uris": ["http://127.0.0.1:3000/callback"],
    "grant_types": ["authorization_code", "refresh_token"],
    "response_types": ["code"],
    "token_endpoint_auth_method": "none",
}


def test_a_document_url_is_fetched_at_its_host_port_and_target():
    assert document_url(URL) == ("app.example.com", 443, "/oauth/client.json")
    assert document_url("https://app.example.com:8443/c.json?v=2") == ("app.example.com", 8443, "/c.json?v=2")


@pytest.mark.parametrize(
    ("client_id", "problem"),
    [
        ("https://app.example.com", "it has no path"),
        ("https://app.example.com/", "it has no path"),
        ("https://app.example.com/a/../client.json", "its path has . or .. segments"),
        ("https://app.example.com/./client.json", "its path has . or .. segments"),
        ("https://app.example.com/a/%2E%2E/client.json", "its path has . or .. segments"),
        ("https://app.example.com/client.json#me", "it has a fragment"),
        ("https://me:pw@app.example.com/client.json", "it carries user information"),
        ("https://app.example.com/client json", "it has characters RFC 3986 does not allow"),
        ("https://app.example.com:99999/client.json", "it is not a valid URL"),
        ("https://0x7f.1/client.json", "its host is not one a browser reads the same way"),
        ("https://app.example.com/" + "a" * 250, "it is longer than 255 characters"),
    ],
)
def test_client_id_urls_are_held_to_the_drafts_rules(client_id, problem):
    """draft-ietf-oauth-client-id-metadata-document-01 section 3: "Client identifier URLs MUST have
    an "https" scheme, MUST contain a path component, MUST NOT contain single-dot or double-dot path
    segments, MUST NOT contain a fragment component and MUST NOT contain a username or password"."""
    with pytest.raises(ClientDocumentError) as refused:
        document_url(client_id)

    assert refused.value.error == "invalid_client"
    assert refused.value.description.endswith(f"is not a client metadata document URL: {problem}.")


def test_a_valid_document_is_a_public_client_acting_for_a_person():
    metadata = read_document(URL, json.dumps(DOCUMENT).encode())

    assert metadata["token_endpoint_auth_method"] == "none"
    assert metadata["grant_types"] == ["authorization_code", "refresh_token"]
    assert metadata["redirect_uris"] == ["http://127.0.0.1:3000/callback"]
    assert metadata["client_name"] == "Example MCP client"


def test_a_document_without_an_auth_method_is_public():
    document = {k: v for k, v in DOCUMENT.items() if k != "token_endpoint_auth_method"}

    assert read_document(URL, json.dumps(document).encode())["token_endpoint_auth_method"] == "none"


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"client_id": "https://app.example.com/other.json"}, f"its client_id must be {URL}, the URL it is served at, exactly"),
        ({"client_id": URL + "/"}, f"its client_id must be {URL}, the URL it is served at, exactly"),
        ({"client_secret": "s3cret"}, "it carries client_secret, but a document cannot share a secret"),
        ({"client_secret_expires_at": 0}, "it carries client_secret_expires_at, but a document cannot share a secret"),
        (
            {"token_endpoint_auth_method": "client_secret_basic"},
            "token_endpoint_auth_method client_secret_basic needs a shared secret, which a document cannot carry; use none",
        ),
        (
            {"token_endpoint_auth_method": "private_key_jwt", "jwks_uri": "https://app.example.com/jwks"},
            "token_endpoint_auth_method private_key_jwt is not supported here; use none (a public client, with PKCE)",
        ),
        ({"client_name": None}, "it has no client_name"),
        ({"redirect_uris": None}, "it has no redirect_uris"),
        ({"grant_types": ["client_credentials"]}, "grant_types: A public client (auth method none) cannot use client_credentials."),
        (
            {"grant_types": [], "response_types": []},
            "its grant_types must be authorization_code, optionally with refresh_token: it acts for a person",
        ),
        ({"redirect_uris": ["http://evil.example/callback"]}, "http://evil.example/callback must be an https URL"),
        ({"scope": "everything:all"}, "scope: Unknown scopes: everything:all."),
    ],
)
def test_invalid_documents_are_refused_saying_what_is_wrong(change, problem):
    """draft-ietf-oauth-client-id-metadata-document-01 section 4.1: the document's client_id "MUST
    match the URL of the document using simple string comparison"; "the token_endpoint_auth_method
    property MUST NOT include client_secret_post, client_secret_basic, client_secret_jwt, or any
    other method based around a shared symmetric secret"; "the client_secret and
    client_secret_expires_at properties MUST NOT be used". MCP 2025-11-25: the document "MUST
    include at least ... client_id, client_name, redirect_uris"."""
    document = {k: v for k, v in {**DOCUMENT, **change}.items() if v is not None}

    with pytest.raises(ClientDocumentError) as refused:
        read_document(URL, json.dumps(document).encode())

    assert refused.value.description.startswith(f"The client metadata document at {URL} is not valid: ")
    assert problem in refused.value.description


@pytest.mark.parametrize(
    ("body", "problem"),
    [(b"<html>", "it is not UTF-8 JSON"), (b"\xff\xfe{}", "it is not UTF-8 JSON"), (b"[]", "it is not a JSON object"),
     (b'{"client_name": "a\\u0000b"}', "it holds a NUL character or an unpaired surrogate")],
)
def test_documents_that_are_not_json_objects_are_refused(body, problem):
    with pytest.raises(ClientDocumentError) as refused:
        read_document(URL, body)

    assert refused.value.description.endswith(f"is not valid: {problem}.")


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"cache-control": "max-age=600"}, 600),
        ({"cache-control": "public, max-age=600", "age": "100"}, 500),
        ({"cache-control": "s-maxage=900, max-age=600"}, 900),
        ({"cache-control": "max-age=5"}, CACHE_MIN_SECONDS),
        ({"cache-control": "no-store"}, CACHE_MIN_SECONDS),
        ({"cache-control": "no-cache, max-age=600"}, CACHE_MIN_SECONDS),
        ({"cache-control": "max-age=31536000"}, CACHE_MAX_SECONDS),
        ({"expires": "Mon, 07 Dec 2026 12:20:00 GMT", "date": "Mon, 07 Dec 2026 12:00:00 GMT"}, 1200),
        ({"expires": "Mon, 07 Dec 2026 12:20:00 GMT"}, 1200),
        ({"expires": "0"}, CACHE_MIN_SECONDS),
        ({}, CACHE_DEFAULT_SECONDS),
    ],
)
def test_freshness_follows_the_cache_headers_within_bounds(headers, seconds):
    """draft-ietf-oauth-client-id-metadata-document-01 section 4.4: "The authorization server SHOULD
    respect HTTP cache headers [RFC9111] when caching client metadata, but MAY define its own upper
    and/or lower bounds on an acceptable cache lifetime as well"."""
    assert fresh_seconds(headers, NOW) == seconds


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "a loopback address"),
        ("::1", "a loopback address"),
        ("::ffff:127.0.0.1", "a loopback address"),
        ("169.254.169.254", "a link-local address"),
        ("fe80::1%eth0", "a link-local address"),
        ("10.1.2.3", "a private address"),
        ("192.168.0.1", "a private address"),
        ("fd00::1", "a private address"),
        ("0.0.0.0", "a private address"),
        ("100.64.0.1", "a special-use address"),
        ("224.0.0.1", "a special-use address"),
        ("64:ff9b::a01:203", "a private address"),
        ("64:ff9b:1::a01:203", "a special-use address"),
        ("::7f00:1", "a special-use address"),
        ("fec0::1", "a special-use address"),
        ("2002:7f00:1::", "a special-use address"),
        ("93.184.215.14", None),
        ("2606:2800:21f:cb07:6820:80da:af6b:8b2c", None),
    ],
)
def test_special_use_addresses_are_named(address, kind):
    """RFC 6890's special-use addresses, which draft section 6.5 forbids fetching a document from;
    IPv4-mapped and NAT64 addresses count as the IPv4 address they reach."""
    assert special_use(address) == kind
