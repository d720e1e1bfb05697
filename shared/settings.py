"""Settings read from the environment once, validated as a whole at start-up."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from shared import secret_strength
from shared.settings_reader import EnvironmentReader, encode_key

logger = logging.getLogger(__name__)

DEV_SECRET_KEY = "drawbridge-development-secret-change-me"
ENVIRONMENTS = ("development", "production")
# Secrets at rest (issue #18): AES-256-GCM key-encryption keys. The development one is public, so
# development keys are encrypted only in form; production must set its own.
DEV_KEY_ENCRYPTION_KEY = b"drawbridge development only KEK!"
SERVER_WORKERS_VARIABLE = "DRAWBRIDGE_SERVER_WORKERS"
# The variable a problem is about: every problem's message starts with it.
VARIABLE_NAME = re.compile(r"[A-Z][A-Z0-9_]*")


class ConfigError(Exception):
    """One or more settings are missing or wrong; the message names each of them."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("Invalid configuration:\n" + "\n".join(f"  - {p}" for p in problems))


@dataclass(frozen=True)
class Settings:
    """Everything both services can be told, each with its unit in its name."""

    environment: str = "development"
    database_url: str = field(default_factory=lambda: default_database_url())
    redis_url: str | None = None
    # Connections one service may hold open to the database, all its worker processes together;
    # each worker's pool gets an equal share (deploy/postgres/README.md sizes max_connections).
    database_connections: int = 30
    # This service's worker processes: set by the gunicorn configurations (serving/hooks.py).
    server_workers: int = 1
    secret_key: str = DEV_SECRET_KEY
    issuer: str = "http://127.0.0.1:8000"
    resource_url: str = "http://127.0.0.1:8001/mcp"
    known_resources: tuple[str, ...] = ()
    jwks_url: str = ""
    access_token_ttl_seconds: int = 600
    jwks_cache_seconds: int = 300
    jwks_refetch_interval_seconds: int = 5
    trusted_proxy_count: int = 0
    registrations_per_ip_per_hour: int = 60
    unused_client_days: int = 90
    # Client ID Metadata Documents (authserver/oauth/cimd.py): hosts whose documents may be fetched
    # although they resolve to a private, loopback or link-local address; and the longest a fetch may take.
    cimd_allowed_hosts: tuple[str, ...] = ()
    cimd_fetch_timeout_seconds: int = 5
    # The scopes a developer may give a machine client in the developer portal (authserver/
    # developer_clients.py); none: developers make only apps that act for a person.
    developer_machine_scopes: tuple[str, ...] = ()
    allowed_origins: tuple[str, ...] = ()
    sse_keepalive_seconds: int = 15
    # How long a tool waits for the client to answer its elicitation or sampling request (2025 eras).
    client_answer_timeout_seconds: int = 300
    max_streams_per_client: int = 20
    max_sessions_per_client: int = 100
    tools_payload_budget_bytes: int = 16384
    report_step_ms: int = 500
    # Tool calls per sliding minute (shared/policy.py): per client, per person across their clients,
    # per caller and tool (0: none) for every tool and for tools not annotated read-only.
    rate_limit_per_minute: int = 120
    person_rate_limit_per_minute: int = 240
    tool_rate_limit_per_minute: int = 0
    mutation_rate_limit_per_minute: int = 30
    rate_limit_on_redis_failure: str = "fail-open"
    audit_retention_days: int = 90
    audit_max_argument_bytes: int = 16384
    database_timeout_seconds: int = 5
    metrics_token: str = ""
    log_level: str = "INFO"
    # Secrets at rest: the first key encrypts signing keys, every key decrypts (so a new one can be
    # rolled out before `drawbridge keys rewrap`). Only the authorization server and its CLI need them.
    key_encryption_keys: tuple[bytes, ...] = field(default=(DEV_KEY_ENCRYPTION_KEY,), repr=False)
    # Rotate the signing key once it is this old (0: only by hand, `drawbridge keys rotate`).
    signing_key_rotation_days: int = 0

    def __post_init__(self) -> None:
        # Derived defaults: the authserver knows at least our own MCP server, and the
        # resource server finds the keys where the authserver publishes them.
        if not self.known_resources:
            object.__setattr__(self, "known_resources", (self.resource_url,))
        if not self.jwks_url:
            object.__setattr__(self, "jwks_url", self.issuer.rstrip("/") + "/jwks")
        if not self.allowed_origins:
            object.__setattr__(self, "allowed_origins", tuple({origin_of(self.resource_url), origin_of(self.issuer)}))

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def signing_key_rotation_interval(self) -> timedelta | None:
        return timedelta(days=self.signing_key_rotation_days) if self.signing_key_rotation_days else None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read every setting, collect every problem, and raise one ConfigError naming them."""
        env = os.environ if environ is None else environ
        reader = EnvironmentReader(env)
        values: dict[str, Any] = {
            "environment": reader.choice("DRAWBRIDGE_ENV", ENVIRONMENTS, "development"),
            "database_url": reader.text("DATABASE_URL", default_database_url()),
            "redis_url": reader.text("REDIS_URL", "") or None,
            "database_connections": reader.integer("DRAWBRIDGE_DATABASE_CONNECTIONS", 30, 1, 10_000),
            "server_workers": reader.integer(SERVER_WORKERS_VARIABLE, 1, 1, 1024),
            "secret_key": reader.text("DRAWBRIDGE_SECRET_KEY", DEV_SECRET_KEY),
            "issuer": reader.url("DRAWBRIDGE_ISSUER", "http://127.0.0.1:8000"),
            "resource_url": reader.url("DRAWBRIDGE_RESOURCE_URL", "http://127.0.0.1:8001/mcp"),
            "known_resources": tuple(reader.url_list("DRAWBRIDGE_RESOURCES")),
            "jwks_url": reader.url("DRAWBRIDGE_JWKS_URL", ""),
            "access_token_ttl_seconds": reader.integer("DRAWBRIDGE_ACCESS_TOKEN_TTL_SECONDS", 600, 30, 86400),
            "jwks_cache_seconds": reader.integer("DRAWBRIDGE_JWKS_CACHE_SECONDS", 300, 1, 86400),
            "jwks_refetch_interval_seconds": reader.integer("DRAWBRIDGE_JWKS_REFETCH_INTERVAL_SECONDS", 5, 1, 3600),
            "trusted_proxy_count": reader.integer("DRAWBRIDGE_TRUSTED_PROXY_COUNT", 0, 0, 5),
            "registrations_per_ip_per_hour": reader.integer("DRAWBRIDGE_REGISTRATIONS_PER_IP_PER_HOUR", 60, 1, 100000),
            "unused_client_days": reader.integer("DRAWBRIDGE_UNUSED_CLIENT_DAYS", 90, 1, 3650),
            "cimd_allowed_hosts": tuple(reader.host_list("DRAWBRIDGE_CIMD_ALLOWED_HOSTS")),
            "cimd_fetch_timeout_seconds": reader.integer("DRAWBRIDGE_CIMD_FETCH_TIMEOUT_SECONDS", 5, 1, 30),
            "developer_machine_scopes": tuple(reader.scope_list("DRAWBRIDGE_DEVELOPER_MACHINE_SCOPES")),
            "allowed_origins": tuple(u.rstrip("/") for u in reader.url_list("DRAWBRIDGE_ALLOWED_ORIGINS")),
            "sse_keepalive_seconds": reader.integer("DRAWBRIDGE_SSE_KEEPALIVE_SECONDS", 15, 1, 3600),
            "client_answer_timeout_seconds": reader.integer("DRAWBRIDGE_CLIENT_ANSWER_TIMEOUT_SECONDS", 300, 1, 86400),
            "max_streams_per_client": reader.integer("DRAWBRIDGE_MAX_STREAMS_PER_CLIENT", 20, 1, 1_000_000),
            "max_sessions_per_client": reader.integer("DRAWBRIDGE_MAX_SESSIONS_PER_CLIENT", 100, 1, 1_000_000),
            "tools_payload_budget_bytes": reader.integer("DRAWBRIDGE_TOOLS_PAYLOAD_BUDGET_BYTES", 16384, 1024, 10_000_000),
            "report_step_ms": reader.integer("DRAWBRIDGE_REPORT_STEP_MS", 500, 0, 60_000),
            "rate_limit_per_minute": reader.integer("DRAWBRIDGE_RATE_LIMIT_PER_MINUTE", 120, 1, 1_000_000),
            "person_rate_limit_per_minute": reader.integer("DRAWBRIDGE_PERSON_RATE_LIMIT_PER_MINUTE", 240, 1, 1_000_000),
            "tool_rate_limit_per_minute": reader.integer("DRAWBRIDGE_TOOL_RATE_LIMIT_PER_MINUTE", 0, 0, 1_000_000),
            "mutation_rate_limit_per_minute": reader.integer("DRAWBRIDGE_MUTATION_RATE_LIMIT_PER_MINUTE", 30, 0, 1_000_000),
            "audit_retention_days": reader.integer("DRAWBRIDGE_AUDIT_RETENTION_DAYS", 90, 1, 36500),
            "audit_max_argument_bytes": reader.integer("DRAWBRIDGE_AUDIT_MAX_ARGUMENT_BYTES", 16384, 0, 1024 * 1024),
            "database_timeout_seconds": reader.integer("DRAWBRIDGE_DATABASE_TIMEOUT_SECONDS", 5, 2, 300),
            "metrics_token": reader.text("DRAWBRIDGE_METRICS_TOKEN", ""),
            "rate_limit_on_redis_failure": reader.choice(
                "DRAWBRIDGE_RATE_LIMIT_ON_REDIS_FAILURE", ("fail-open", "fail-closed"), "fail-open"
            ),
            "log_level": reader.choice("DRAWBRIDGE_LOG_LEVEL", ("DEBUG", "INFO", "WARNING", "ERROR"), "INFO"),
            "signing_key_rotation_days": reader.integer("DRAWBRIDGE_SIGNING_KEY_ROTATION_DAYS", 0, 0, 3650),
        }
        # Secrets at rest: no development key in production; the authorization server refuses to
        # start without one (authserver/keys.py), the MCP server never needs one.
        values["key_encryption_keys"] = reader.key_encryption_keys(
            "DRAWBRIDGE_KEY_ENCRYPTION_KEYS", () if values["environment"] == "production" else (DEV_KEY_ENCRYPTION_KEY,)
        )
        settings = cls(**values)
        if settings.is_production:
            reader.problems.extend(settings.unsafe_defaults())
            reader.problems.extend(settings.weak_secrets())
            named = {match.group() for problem in reader.problems if (match := VARIABLE_NAME.match(problem))}
            reader.problems.extend(secret_strength.placeholder_problems(env, named))
        if reader.problems:
            raise ConfigError(reader.problems)
        return settings

    def database_pool_size(self, connections_outside_pool: int = 0) -> int:
        """One worker's pool: its equal share of DRAWBRIDGE_DATABASE_CONNECTIONS, less the
        connections it holds outside the pool. Raises ConfigError when that leaves none: the
        workers together would go over the connections PostgreSQL was sized for."""
        per_worker = connections_outside_pool + 1
        if self.database_connections < self.server_workers * per_worker:
            raise ConfigError([
                f"DRAWBRIDGE_DATABASE_CONNECTIONS={self.database_connections} is too few for {self.server_workers} "
                f"workers, which need {per_worker} each; set it to {self.server_workers * per_worker} or more "
                "(deploy/postgres/README.md)."
            ])
        return self.database_connections // self.server_workers - connections_outside_pool

    def unsafe_defaults(self) -> list[str]:
        """Development conveniences that must not reach production."""
        problems = []
        if self.secret_key == DEV_SECRET_KEY:
            problems.append("DRAWBRIDGE_SECRET_KEY is the development default; set a random value.")
        if self.database_url.startswith("sqlite"):
            problems.append("DATABASE_URL points at SQLite; production needs PostgreSQL.")
        if not self.redis_url:
            problems.append("REDIS_URL is missing; production needs Redis shared by every worker.")
        if urlsplit(self.issuer).scheme != "https":
            problems.append("DRAWBRIDGE_ISSUER must be an https URL in production.")
        if DEV_KEY_ENCRYPTION_KEY in self.key_encryption_keys:
            problems.append("DRAWBRIDGE_KEY_ENCRYPTION_KEYS holds the development default; set a random value.")
        return problems

    def weak_secrets(self) -> list[str]:
        """Secrets set to a placeholder or something guessable (the development default is named
        by unsafe_defaults; an unset metrics token means no /metrics, which is safe)."""
        secrets = {"DRAWBRIDGE_SECRET_KEY": self.secret_key} if self.secret_key != DEV_SECRET_KEY else {}
        if self.metrics_token:
            secrets["DRAWBRIDGE_METRICS_TOKEN"] = self.metrics_token
        for number, key in enumerate(self.key_encryption_keys, start=1):
            if key != DEV_KEY_ENCRYPTION_KEY:
                secrets[f"DRAWBRIDGE_KEY_ENCRYPTION_KEYS (key {number})"] = encode_key(key)
        return secret_strength.secret_problems(secrets)

    def warn_if_unsafe(self) -> None:
        """Log one loud warning per development default still in use."""
        for problem in self.unsafe_defaults():
            logger.warning("unsafe_development_default", extra={"problem": problem})


def default_database_url() -> str:
    """The embedded default: an SQLite file under ./var, absolute so every process agrees."""
    return f"sqlite:///{Path.cwd() / 'var' / 'drawbridge.sqlite3'}"


def origin_of(url: str) -> str:
    """scheme://host[:port], as browsers send it in the Origin header."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
