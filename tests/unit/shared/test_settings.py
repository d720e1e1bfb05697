"""Settings: defaults that work out of the box, and one error that names every bad variable."""

from __future__ import annotations

import pytest

from shared.settings import ConfigError, Settings


def test_defaults_run_the_embedded_development_setup():
    settings = Settings.from_env({})

    assert settings.environment == "development"
    assert settings.database_url.startswith("sqlite:///")
    assert settings.redis_url is None
    assert settings.known_resources == ("http://127.0.0.1:8001/mcp",)
    assert settings.jwks_url == "http://127.0.0.1:8000/jwks"
    assert settings.access_token_ttl_seconds == 600


def test_values_are_read_and_derived_defaults_follow_them():
    settings = Settings.from_env(
        {
            "DRAWBRIDGE_ISSUER": "https://auth.example.com",
            "DRAWBRIDGE_RESOURCE_URL": "https://mcp.example.com/mcp",
            "DRAWBRIDGE_ACCESS_TOKEN_TTL_SECONDS": "120",
            "REDIS_URL": "redis://cache:6379/0",
        }
    )

    assert settings.jwks_url == "https://auth.example.com/jwks"
    assert settings.known_resources == ("https://mcp.example.com/mcp",)
    assert settings.access_token_ttl_seconds == 120
    assert settings.redis_url == "redis://cache:6379/0"


def test_every_problem_is_reported_at_once_by_variable_name():
    with pytest.raises(ConfigError) as raised:
        Settings.from_env(
            {
                "DRAWBRIDGE_ENV": "staging",
                "DRAWBRIDGE_ISSUER": "auth.example.com",
                "DRAWBRIDGE_ACCESS_TOKEN_TTL_SECONDS": "ten",
                "DRAWBRIDGE_JWKS_CACHE_SECONDS": "0",
                "DRAWBRIDGE_RESOURCES": "https://ok.example/mcp ftp://bad",
            }
        )

    message = str(raised.value)
    for name in (
        "DRAWBRIDGE_ENV",
        "DRAWBRIDGE_ISSUER",
        "DRAWBRIDGE_ACCESS_TOKEN_TTL_SECONDS",
        "DRAWBRIDGE_JWKS_CACHE_SECONDS",
        "DRAWBRIDGE_RESOURCES",
    ):
        assert name in message
    assert len(raised.value.problems) == 5


def test_production_refuses_the_development_defaults():
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({"DRAWBRIDGE_ENV": "production"})

    message = str(raised.value)
    assert "DRAWBRIDGE_SECRET_KEY" in message
    assert "DATABASE_URL" in message
    assert "REDIS_URL" in message
    assert "DRAWBRIDGE_ISSUER" in message


def test_production_with_real_settings_starts():
    settings = Settings.from_env(
        {
            "DRAWBRIDGE_ENV": "production",
            "DRAWBRIDGE_SECRET_KEY": "s3cr3t-from-a-vault-0123456789-abcdefghij",
            "DATABASE_URL": "postgresql://db/drawbridge",
            "REDIS_URL": "redis://cache:6379/0",
            "DRAWBRIDGE_ISSUER": "https://auth.example.com",
        }
    )

    assert settings.is_production


def test_client_metadata_document_hosts_are_read_as_a_url_host_reads():
    settings = Settings.from_env({"DRAWBRIDGE_CIMD_ALLOWED_HOSTS": "Docs.Internal, [::1] 10.0.0.7", "DRAWBRIDGE_CIMD_FETCH_TIMEOUT_SECONDS": "3"})

    assert settings.cimd_allowed_hosts == ("docs.internal", "::1", "10.0.0.7")
    assert settings.cimd_fetch_timeout_seconds == 3


def test_client_metadata_document_hosts_that_are_not_hosts_are_named():
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({"DRAWBRIDGE_CIMD_ALLOWED_HOSTS": "https://docs.internal/x ok.example ::1::2", "DRAWBRIDGE_CIMD_FETCH_TIMEOUT_SECONDS": "0"})

    assert raised.value.problems == [
        "DRAWBRIDGE_CIMD_ALLOWED_HOSTS holds values that are not host names or IP addresses: https://docs.internal/x, ::1::2.",
        "DRAWBRIDGE_CIMD_FETCH_TIMEOUT_SECONDS=0 must be between 1 and 30.",
    ]


def test_developers_may_make_no_machine_client_unless_an_operator_names_its_scopes():
    assert Settings.from_env({}).developer_machine_scopes == ()
    settings = Settings.from_env({"DRAWBRIDGE_DEVELOPER_MACHINE_SCOPES": "posts:read, orders:read posts:read"})

    assert settings.developer_machine_scopes == ("orders:read", "posts:read")


def test_developer_machine_scopes_outside_the_catalogue_are_named():
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({"DRAWBRIDGE_DEVELOPER_MACHINE_SCOPES": "posts:read everything"})

    assert raised.value.problems[0].startswith("DRAWBRIDGE_DEVELOPER_MACHINE_SCOPES holds scopes the catalogue lacks: everything; known: ")
