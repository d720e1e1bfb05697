"""Create, update, limit, disable, enable, delete and prune OAuth clients: one service for the CLI, the
pages and registration (registered_clients.py)."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Literal

import redis
from sqlalchemy import and_, or_, select, update

from authserver import cutoffs
from authserver.client_specs import (
    MACHINE,
    ClientKind,
    ClientSpecError,
    checked_name,
    checked_redirect_uris,
    checked_scopes,
    kind_of,
)
from authserver.models import FROM_METADATA_DOCUMENT, SELF_REGISTERED, Client, ClientSecret
from authserver.oauth import client_secrets
from authserver.services import AuthServices
from shared import policy, revocation, scopes
from shared import services as shared_services
from shared.db import db, utcnow

logger = logging.getLogger(__name__)

CLIENT_ID_BYTES = 18
DEMO_CLIENT_ID = "demo-agent"
# A client's last use is written at most this often, so busy clients cost no write per token.
LAST_USED_RESOLUTION = timedelta(hours=1)
# A secret's, more often: during a rotation's grace it tells whether the old secret is still in use.
SECRET_LAST_USED_RESOLUTION = timedelta(minutes=5)


def new_client_id() -> str:
    """A random client id that never starts with "-": operators pass ids to `drawbridge` commands,
    which would read one starting with "-" as an option."""
    return "c" + secrets.token_urlsafe(CLIENT_ID_BYTES)


@dataclass(frozen=True)
class NewClient:
    """A created client and its secret (None for a public app), which is shown once and never stored in clear."""

    client: Client
    client_secret: str | None


def create_client(
    name: str,
    scope: str,
    kind: ClientKind = MACHINE,
    redirect_uris: Sequence[str] = (),
    client_id: str | None = None,
    rate_limit_per_minute: int | None = None,
    may_introspect: bool = False,
    owner_id: int | None = None,
) -> NewClient:
    """Create a client of `kind` (client_specs.py): a machine holds `scope`, an app may ask a person
    for it and sends them back to one of `redirect_uris`. `client_id` is random unless one is given.
    `may_introspect` makes a machine a resource server's credentials: it may introspect any access
    token (RFC 7662 section 4), and needs no scope of its own. `owner_id`: the developer who
    registered it in the developer portal (developer_clients.py)."""
    if may_introspect and kind is not MACHINE:
        raise ClientSpecError("Only a machine client may introspect: a resource server's credentials act on their own.")
    requested = checked_scopes(scope, may_introspect)
    uris = checked_redirect_uris(kind, redirect_uris)
    secret = client_secrets.generate() if kind.has_secret else None
    client = Client(
        client_id=client_id or new_client_id(),
        secrets=[ClientSecret(secret_hash=client_secrets.hash_secret(secret))] if secret else [],
        client_name=checked_name(name),
        scope=" ".join(requested),
        grant_types=" ".join(kind.grant_types),
        token_endpoint_auth_method=kind.token_endpoint_auth_method,
        response_types=" ".join(kind.response_types),
        redirect_uris=uris,
        rate_limit_per_minute=rate_limit_per_minute,
        may_introspect=may_introspect,
        owner_id=owner_id,
    )
    db.session.add(client)
    db.session.flush()  # a taken client_id fails here, before its limit is published
    policy.publish_limits(_redis(), client.client_id, client.rate_limits)
    db.session.commit()
    return NewClient(client=client, client_secret=secret)


def update_client(client_id: str, name: str | None = None, scope: str | None = None, redirect_uris: Sequence[str] | None = None) -> Client:
    """Rename a client, set the scopes it holds or may ask for, or replace its redirect URIs (None:
    unchanged). Scopes taken away stop working at once: the people's grants to it keep only the
    others, and its access tokens from before the change fail at the resource server, as do those
    issued in the few seconds after it (cutoffs.void_before_change); without Redis for that, nothing
    changes (redis.RedisError). New redirect URIs void its unused codes, and each remembered consent
    asks the person again (views/consent.py). A client known from its metadata document (oauth/cimd.py)
    is what the document says, so it is refused."""
    client = find_client(client_id)
    if client.from_metadata_document:
        raise ClientSpecError(f"{client_id} is what its client metadata document says: change the document, or disable the client.")
    new_name = checked_name(name) if name is not None else client.client_name
    new_scope = checked_scopes(scope, client.may_introspect) if scope is not None else scopes.parse(client.scope)
    new_uris = checked_redirect_uris(kind_of(client), redirect_uris) if redirect_uris is not None else client.redirect_uris
    removed = [s for s in scopes.parse(client.scope) if s not in new_scope]
    uris_changed = new_uris != client.redirect_uris
    if removed and client.disabled_at is None:  # a disabled client's tokens are all void already
        cutoffs.void_before_change(client_id)  # first: without Redis nothing changes
    client.client_name, client.scope, client.redirect_uris = new_name, " ".join(new_scope), new_uris
    if removed or uris_changed:
        cutoffs.narrow(client_id, new_scope)
    db.session.commit()
    _forget(client_id)
    logger.info("client_updated", extra={"updated_client_id": client_id, "scopes_removed": removed, "redirect_uris_changed": uris_changed})
    return client


class Keep(Enum):
    """A limit `set_rate_limit` leaves as it is."""

    KEEP = "keep"


KEEP = Keep.KEEP


def set_rate_limit(
    client_id: str,
    per_minute: int | None | Literal[Keep.KEEP] = KEEP,
    *,
    person: int | None | Literal[Keep.KEEP] = KEEP,
    tools: Mapping[str, int | None] | None = None,
) -> Client:
    """A client's own tool-call limits, per minute (shared/policy.py); None puts one back to the
    deployment's default: its calls (`per_minute`), a person's calls through it across all their
    clients (`person`), each caller's calls of a tool (`tools`, by name). With Redis, every resource
    server applies them from the next call; without, within policy.CACHE_SECONDS. Redis unreachable:
    nothing changes (redis.RedisError)."""
    changes = [limit for limit in (per_minute, person, *(tools or {}).values()) if isinstance(limit, int)]
    if any(limit < 1 for limit in changes):
        raise ClientSpecError("A rate limit is at least 1 call per minute.")
    known = scopes.tool_names()
    if unknown := sorted(set(tools or {}) - set(known)):
        raise ClientSpecError(f"No tool named {', '.join(unknown)}. Tools: {' '.join(known)}.")
    client = find_client(client_id)
    if per_minute is not KEEP:
        client.rate_limit_per_minute = per_minute
    if person is not KEEP:
        client.person_rate_limit_per_minute = person
    if tools:
        merged = {**(client.tool_rate_limits or {}), **tools}
        client.tool_rate_limits = {name: limit for name, limit in sorted(merged.items()) if limit is not None}
    db.session.flush()
    policy.publish_limits(_redis(), client_id, client.rate_limits)
    db.session.commit()
    return client


def reset_secret(client: Client) -> NewClient:
    """Give a client a new secret at once; the old ones stop working (secret_rotation.py keeps
    them for a grace)."""
    secret = client_secrets.generate()
    client.secrets = [ClientSecret(secret_hash=client_secrets.hash_secret(secret))]
    db.session.commit()
    return NewClient(client=client, client_secret=secret)


def demo_client() -> NewClient:
    """The demo agent of the quick-start, created once and given a fresh secret on every call."""
    client = db.session.scalar(select(Client).where(Client.client_id == DEMO_CLIENT_ID))
    if client is None:
        return create_client("Demo agent", " ".join(sorted(scopes.SCOPE_NAMES)), client_id=DEMO_CLIENT_ID)
    return reset_secret(client)


def delete_client(client: Client) -> None:
    """Remove a client (RFC 7592 section 2.3); every token it holds fails at once."""
    client_id = client.client_id
    cutoffs.void_access_tokens(revocation.CLIENT, client_id, utcnow())  # first: without Redis nothing changes (503)
    cutoffs.withdraw(revocation.CLIENT, client_id)
    policy.forget_limits(_redis(), client_id)
    db.session.delete(client)
    db.session.commit()
    _forget(client_id)
    logger.warning("client_deleted", extra={"deleted_client_id": client_id})


def disable_client(client_id: str) -> Client:
    """Stop a client: the token endpoint refuses it and every token it holds fails at once. The
    database change is committed first; if Redis then cannot take the access tokens' revocation
    (redis.RedisError), the client stays disabled and running this again writes the revocation."""
    client = find_client(client_id)
    if client.disabled_at is None:
        cutoffs.withdraw(revocation.CLIENT, client_id)
        client.disabled_at = utcnow()
        db.session.commit()
        _forget(client_id)
        logger.warning("client_disabled", extra={"disabled_client_id": client_id})
    cutoffs.void_access_tokens(revocation.CLIENT, client_id, client.disabled_at)
    return client


def enable_client(client_id: str) -> Client:
    """Let a disabled client get tokens again; those it held before stay void."""
    client = find_client(client_id)
    if client.disabled_at is not None:
        cutoffs.restore(revocation.CLIENT, client_id, client.disabled_at)
        client.disabled_at = None
        db.session.commit()
        logger.info("client_enabled", extra={"enabled_client_id": client_id})
    return client


def mark_used(client: Client, secret: ClientSecret | None) -> bool:
    """Note the client's use (at most once per LAST_USED_RESOLUTION) and that of the secret it
    authenticated with, if any (once per SECRET_LAST_USED_RESOLUTION); True if that needs a commit.
    Written by statement: the token endpoint's clients are read-only copies (see read_enabled_client
    in oauth/client_lookup.py), shared by concurrent requests, so two may both write: a few writes
    an interval at most, never one per token."""
    now = utcnow()
    marked = False
    if secret is not None and _due(secret.last_used_at, now, SECRET_LAST_USED_RESOLUTION):
        db.session.execute(update(ClientSecret).where(ClientSecret.id == secret.id).values(last_used_at=now))
        secret.last_used_at = now
        marked = True
    if _due(client.last_used_at, now, LAST_USED_RESOLUTION):
        db.session.execute(update(Client).where(Client.id == client.id).values(last_used_at=now))
        client.last_used_at = now
        marked = True
    return marked


def prune_unused(days: int) -> int:
    """Delete registered clients, and those known from a metadata document, not used for `days`
    days (never used counts from registration); a document's client comes back at its next use,
    so a disabled one, or one with an expiry, is kept: its row is what keeps its URL disabled or expiring."""
    cutoff = utcnow() - timedelta(days=days)
    stale = db.session.scalars(
        select(Client).where(
            or_(
                Client.registered_via == SELF_REGISTERED,
                and_(Client.registered_via == FROM_METADATA_DOCUMENT, Client.disabled_at.is_(None), Client.expires_at.is_(None)),
            ),
            or_(
                and_(Client.last_used_at.is_(None), Client.created_at < cutoff),
                Client.last_used_at < cutoff,
            ),
        )
    ).all()
    for client in stale:
        delete_client(client)
    return len(stale)


def _due(last_used_at: datetime | None, now: datetime, resolution: timedelta) -> bool:
    return last_used_at is None or now - last_used_at > resolution


def find_client(client_id: str) -> Client:
    """The client with this id, or ClientSpecError saying there is none."""
    client = db.session.scalar(select(Client).where(Client.client_id == client_id))
    if client is None:
        raise ClientSpecError(f"No client with id {client_id}.")
    return client


def _redis() -> redis.Redis | None:
    return shared_services.of().redis


def _forget(client_id: str) -> None:
    """This process drops its copy of the client at once; other processes' copies age out within
    cutoffs.CLIENT_CACHE_SECONDS (the CLI's app keeps none)."""
    found = shared_services.of()
    if isinstance(found, AuthServices):
        found.recent_clients.discard(client_id)
