"""The authorization server's tables: clients, people, codes, grants, refresh tokens, consents, keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from authserver.oauth import client_secrets, redirect_uris
from shared import scopes
from shared.db import Model, UTCDateTime, utcnow
from shared.policy import ClientLimits

# A client_id is ours (random, short) or the https URL of the client's metadata document (CIMD).
MAX_CLIENT_ID_LENGTH = 255
# registered_via of a client known from its metadata document (oauth/cimd.py), not registered.
FROM_METADATA_DOCUMENT = "cimd"
# registered_via of a client that registered itself (RFC 7591, oauth/registration.py).
SELF_REGISTERED = "dcr"
# What a person may be besides someone who consents: `developer` registers clients in the portal,
# `admin` runs the service in the admin console.
ROLES = ("admin", "developer")


class Client(Model):
    """An OAuth client (RFC 6749 section 2), with the scopes and grants it may use."""

    __tablename__ = "oauth_clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(MAX_CLIENT_ID_LENGTH), unique=True)
    client_name: Mapped[str] = mapped_column(String(200))
    scope: Mapped[str] = mapped_column(Text, default="")
    grant_types: Mapped[str] = mapped_column(Text, default="")
    token_endpoint_auth_method: Mapped[str] = mapped_column(String(40), default="client_secret_basic")
    redirect_uris: Mapped[list[str]] = mapped_column(JSON, default=list)
    response_types: Mapped[str] = mapped_column(Text, default="")
    # RFC 7591 metadata as registered (client_uri, contacts, software_id, ...), for RFC 7592 reads.
    client_metadata: Mapped[dict] = mapped_column(JSON, default=dict)
    # "cli", "dcr", "cimd": where the client came from; only registered ones and those known from
    # a metadata document are pruned.
    registered_via: Mapped[str] = mapped_column(String(20), default="cli")
    registration_token_hash: Mapped[str | None] = mapped_column(String(64))
    # Tool calls per minute at the resource server (shared/policy.py); None means the deployment's
    # default: this client's calls; a person's calls through it, across all their clients; per tool,
    # by name, each caller's calls of it.
    rate_limit_per_minute: Mapped[int | None]
    person_rate_limit_per_minute: Mapped[int | None]
    tool_rate_limits: Mapped[dict[str, int] | None] = mapped_column(JSON, default=dict)
    # A resource server's own credentials: it may introspect any access token (RFC 7662 section 4),
    # not only its own. Set by an operator only (`drawbridge clients create --introspect`).
    may_introspect: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A client known from its metadata document: until when the copy here is fresh (its cache headers).
    document_fresh_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # After it the client gets no token (invalid_client), as if it were unknown; None: never.
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The developer who registered it in the developer portal, the only person who may see or change
    # it there (developer_clients.py); None for one an operator, a registration or a document made.
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    # Its secrets: one, or several while a rotation's grace runs (secret_rotation.py). The token
    # endpoint's copies carry the live ones (oauth/client_lookup.read_enabled_client).
    secrets: Mapped[list[ClientSecret]] = relationship(cascade="all, delete-orphan", passive_deletes=True, order_by="ClientSecret.id")

    @property
    def rate_limits(self) -> ClientLimits:
        return ClientLimits(self.rate_limit_per_minute, self.person_rate_limit_per_minute, dict(self.tool_rate_limits or {}))

    @property
    def is_public(self) -> bool:
        return self.token_endpoint_auth_method == "none"

    @property
    def from_metadata_document(self) -> bool:
        """Its client_id is the URL of a document the client publishes; nobody here vouched for it."""
        return self.registered_via == FROM_METADATA_DOCUMENT

    @property
    def unverified(self) -> bool:
        """Its name is its own word: it registered itself or publishes its own metadata document, and
        no operator or developer of this server vouched for it (anyone can call itself "Claude")."""
        return self.registered_via in (SELF_REGISTERED, FROM_METADATA_DOCUMENT)

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now

    def find_secret(self, presented: str, now: datetime) -> ClientSecret | None:
        """The secret `presented` is, if it has not expired by `now`; every secret is compared, in
        constant time (client_secrets.matching)."""
        found = client_secrets.matching(presented, self.secrets)
        return None if found is None or found.expired(now) else found

    # Authlib's ClientMixin protocol, as the grants and client authentication call it.

    def get_client_id(self) -> str:
        return self.client_id

    def get_allowed_scope(self, scope: str | None) -> str | None:
        """Requested scopes this client may have (all of its scopes when none are requested)."""
        allowed = scopes.parse(self.scope)
        granted = [s for s in scopes.parse(scope) or allowed if s in allowed]
        return " ".join(granted) or None

    def check_client_secret(self, client_secret: str) -> bool:
        """Whether `client_secret` is one of the client's live secrets (Authlib's client
        authentication asks); the one it is is remembered for this request, so its use can be noted
        (client_secrets.authenticating). The client_credentials grant calls find_secret itself."""
        found = self.find_secret(client_secret, utcnow())
        if found is not None:
            client_secrets.remember(found)
        return found is not None

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if self.is_public:
            return method == "none"
        # A confidential client may send its secret in the header or the body (RFC 6749 2.3.1).
        return method in ("client_secret_basic", "client_secret_post")

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.grant_types.split()

    def check_response_type(self, response_type: str) -> bool:
        return response_type in self.response_types.split()

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uris.matches(redirect_uri, self.redirect_uris)

    def get_default_redirect_uri(self) -> str | None:
        # OAuth 2.1: the redirect_uri is required whenever a client has registered several.
        return self.redirect_uris[0] if len(self.redirect_uris) == 1 else None


class ClientSecret(Model):
    """One secret of a confidential client, stored only as its SHA-256 hash (client_secrets.py)."""

    __tablename__ = "client_secrets"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("oauth_clients.client_id", ondelete="CASCADE"), index=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When it stops working: the end of a rotation's grace, or a lifetime given to it; None: never.
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Written at most once per clients.SECRET_LAST_USED_RESOLUTION, so tokens cost no write each.
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now


class User(Model):
    """A person who logs in to consent; the password is stored only as an argon2 hash."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Copied into the session cookie at login; moving it (logout, a new password, disabling the
    # person) ends every session of the person, wherever its cookie is.
    session_generation: Mapped[int] = mapped_column(default=0, server_default="0")
    # Read only by the pages and the CLI (when asked for): the token path never loads them.
    roles: Mapped[list[UserRole]] = relationship(cascade="all, delete-orphan", passive_deletes=True, order_by="UserRole.role")

    def get_user_id(self) -> int:
        return self.id

    def has_role(self, role: str) -> bool:
        return any(r.role == role for r in self.roles)


class UserRole(Model):
    """One role (models.ROLES) a person holds."""

    __tablename__ = "user_roles"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(20), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Consent(Model):
    """What a person allowed a client for one resource, remembered so the next request can skip the page."""

    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("oauth_clients.client_id", ondelete="CASCADE"))
    scope: Mapped[str] = mapped_column(Text)
    # RFC 8707: the resource the person allowed access to; another resource asks again.
    resource: Mapped[str] = mapped_column(Text)
    # redirect_uris.fingerprint() of the client's URIs when the person consented: an RFC 7592
    # update that changes them voids the consent, so codes never go where the person was not shown.
    redirect_uris_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuthorizationCode(Model):
    """A one-time code (RFC 6749 4.1.2), stored as a hash and bound to its PKCE challenge."""

    __tablename__ = "authorization_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("oauth_clients.client_id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    redirect_uri: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(Text)
    resource: Mapped[str] = mapped_column(Text)
    code_challenge: Mapped[str] = mapped_column(String(128))
    code_challenge_method: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The grant the code was exchanged for: revoked if the code is ever presented again.
    grant_id: Mapped[str | None] = mapped_column(String(36))

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope


class Grant(Model):
    """One authorization a person gave a client: the family of every token issued under it."""

    __tablename__ = "grants"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("oauth_clients.client_id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    scope: Mapped[str] = mapped_column(Text)
    resource: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RefreshToken(Model):
    """An opaque refresh token, stored as a hash; each use rotates it (OAuth 2.1 section 4.3.1)."""

    __tablename__ = "refresh_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    grant_id: Mapped[str] = mapped_column(ForeignKey("grants.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SigningKey(Model):
    """An ES256 key that signs access tokens; retired keys stay published until their tokens expire."""

    __tablename__ = "signing_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    kid: Mapped[str] = mapped_column(String(64), unique=True)
    private_jwk: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class InitialAccessToken(Model):
    """An operator's permission to register clients (RFC 7591 section 3), stored only as a hash."""

    __tablename__ = "initial_access_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The most a client registered with it may hold (or ask a person for).
    scope: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Registrations it may still make; None: any number until it expires.
    uses_left: Mapped[int | None]
