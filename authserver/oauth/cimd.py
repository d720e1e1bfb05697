"""Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document-01; the MCP
authorization specification 2025-11-25, "Client ID Metadata Documents"): a client_id that is an
https URL names a JSON document the client publishes there, saying who it is and where codes go.

Such a client is public (a document cannot share a secret: section 4.1), acts only for a person
(open registration's rules, registration.OPEN: no client_credentials, no standing scopes) and is
kept as a row of oauth_clients, so its codes, grants and consents are those of any client. The row
is a copy of the document: fresh as long as its cache headers say, within CACHE_MIN_SECONDS and
CACHE_MAX_SECONDS (section 4.4), then fetched again (cimd_fetch.py); while its host cannot be
reached, the old copy stands in for STALE_SECONDS more. An error answer or an invalid document is
never kept (section 4.4): the request is refused, saying what is wrong.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, NoReturn
from urllib.parse import urlsplit

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import InvalidClientError
from flask import has_request_context, request
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import ResponseCacheControl
from werkzeug.http import parse_cache_control_header, parse_date

from authserver import registered_clients
from authserver.models import FROM_METADATA_DOCUMENT, MAX_CLIENT_ID_LENGTH, Client
from authserver.oauth import registration
from authserver.oauth.cimd_fetch import FetchError
from authserver.oauth.errors import describe
from authserver.oauth.redirect_uris import URI_CHARACTERS, browser_host
from authserver.services import services
from shared import json_limits
from shared.app import current_settings
from shared.db import db, rowcount, utcnow
from shared.unstorable import storable_json

logger = logging.getLogger(__name__)

# How long a copy is fresh: the document's cache headers within these bounds, or the default
# when they say nothing (section 4.4 lets the server bound them).
CACHE_MIN_SECONDS = 60
CACHE_MAX_SECONDS = 24 * 3600
CACHE_DEFAULT_SECONDS = 300
# How long past its freshness a copy stands in while the document's host cannot be reached.
STALE_SECONDS = 3600
# Documents fetched for one address are counted with its registrations, in windows this long.
FETCH_WINDOW_SECONDS = 3600
SCHEME = "https://"
_DOT_SEGMENTS = {".", "..", "%2e", "%2e%2e", ".%2e", "%2e."}
_SHARED_SECRET_METHODS = {"client_secret_basic", "client_secret_post", "client_secret_jwt"}


class ClientDocumentError(InvalidClientError):
    """The client's metadata document cannot be had or used (invalid_client, RFC 6749 section 5.2).
    At /authorize it is our error page, never a redirect: the redirect URI would come from it."""

    def __init__(self, description: str, status_code: int = 400) -> None:
        super().__init__(description=describe(description), status_code=status_code)


def names_document(client_id: str | None) -> bool:
    """Whether `client_id` is a client metadata document's URL: our own ids never start so
    (section 6.9); an operator may still have registered such an id (section 6.10)."""
    return client_id is not None and client_id.startswith(SCHEME)


def client(client_id: str) -> Client | None:
    """The client `client_id` names, as a copy outside the session (client_lookup.py): one an
    operator registered under that URL as it is, else the one its document describes, fetched
    when the copy kept is no longer fresh. None for a disabled or expired client, as for any other."""
    known = _known(client_id)
    now = utcnow()
    if known is not None and (known.disabled_at is not None or known.expired(now)):
        return None
    if known is not None and not known.from_metadata_document:
        return known
    if known is not None and known.document_fresh_until is not None and now < known.document_fresh_until:
        return known
    host, port, target = document_url(client_id)
    _count_fetch()
    # The fetch may take the whole time-out: the request's database connection goes back to the
    # pool meanwhile (nothing is pending yet), so slow hosts cannot tie up every connection.
    db.session.commit()
    try:
        fetched = services().client_documents.fetch(host, port, target)
    except FetchError as error:
        if error.transient and known is not None and known.document_fresh_until is not None:
            if now < known.document_fresh_until + timedelta(seconds=STALE_SECONDS):
                logger.warning("client_document_stale", extra={"client_id": client_id, "reason": error.reason})
                return known
        logger.info("client_document_refused", extra={"client_id": client_id, "reason": error.reason})
        raise ClientDocumentError(f"The client metadata document at {client_id} {error.reason}.") from None
    metadata = read_document(client_id, fetched.body)
    return _keep(client_id, metadata, now + timedelta(seconds=fresh_seconds(fetched.headers, now)))


def document_url(client_id: str) -> tuple[str, int, str]:
    """The host, port and request target to fetch, from a client_id held to section 3: https, a
    path, no dot segments, no fragment, no user information; and, as for redirect URIs, only
    RFC 3986 characters and a host a browser reads as we do, since the consent page names it."""
    problem = _url_problem(client_id)
    if problem is not None:
        raise ClientDocumentError(f"The client_id {client_id[:MAX_CLIENT_ID_LENGTH]} is not a client metadata document URL: {problem}.")
    parts = urlsplit(client_id)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    return parts.hostname or "", parts.port or 443, target


def _url_problem(client_id: str) -> str | None:
    if len(client_id) > MAX_CLIENT_ID_LENGTH:
        return f"it is longer than {MAX_CLIENT_ID_LENGTH} characters"
    if not URI_CHARACTERS.fullmatch(client_id):
        return "it has characters RFC 3986 does not allow"
    try:
        parts = urlsplit(client_id)
        parts.port  # noqa: B018 (raises ValueError for a bad port)
    except ValueError:
        return "it is not a valid URL"
    if "#" in client_id:
        return "it has a fragment"
    if "@" in parts.netloc:
        return "it carries user information"
    if not parts.hostname or (browser_host(client_id) or "").strip("[]") != parts.hostname:
        return "its host is not one a browser reads the same way"
    if parts.path in ("", "/"):
        return "it has no path"
    if any(segment.lower() in _DOT_SEGMENTS for segment in parts.path.split("/")):
        return "its path has . or .. segments"
    return None


def read_document(client_id: str, body: bytes) -> dict[str, Any]:
    """The document's client metadata, held to section 4.1 and the MCP specification (client_id,
    client_name and redirect_uris required), to RFC 7591 as registrations are (registration.py),
    and to open registration's allowance; else ClientDocumentError saying what is wrong."""
    try:
        body.decode("utf-8")
        document = json_limits.loads(body)
    except ValueError:  # not UTF-8 (RFC 8259 section 8.1), not JSON, or nested too deep
        _invalid(client_id, "it is not UTF-8 JSON")
    if not isinstance(document, dict):
        _invalid(client_id, "it is not a JSON object")
    if not storable_json(document):
        _invalid(client_id, "it holds a NUL character or an unpaired surrogate")
    if document.get("client_id") != client_id:
        _invalid(client_id, f"its client_id must be {client_id}, the URL it is served at, exactly")
    for field in ("client_secret", "client_secret_expires_at"):
        if field in document:
            _invalid(client_id, f"it carries {field}, but a document cannot share a secret")
    method = document.get("token_endpoint_auth_method", "none")
    if method in _SHARED_SECRET_METHODS:
        _invalid(client_id, f"token_endpoint_auth_method {method} needs a shared secret, which a document cannot carry; use none")
    if method != "none":
        _invalid(client_id, f"token_endpoint_auth_method {method} is not supported here; use none (a public client, with PKCE)")
    for field in ("client_name", "redirect_uris"):
        if field not in document:
            _invalid(client_id, f"it has no {field}")
    try:
        metadata = registration.validate_metadata({**document, "token_endpoint_auth_method": "none"})
        grants = set(metadata["grant_types"])
        if "authorization_code" not in grants or grants - registration.PERSON_GRANT_TYPES:
            _invalid(client_id, "its grant_types must be authorization_code, optionally with refresh_token: it acts for a person")
        return registration.within(metadata, registration.OPEN)
    except ClientDocumentError:
        raise
    except OAuth2Error as error:
        _invalid(client_id, error.description or "its metadata is not valid")


def fresh_seconds(headers: Mapping[str, str], now: datetime) -> int:
    """How long a document stays fresh (RFC 9111 section 4.2.1, as a shared cache reads it:
    s-maxage, then max-age, then Expires less Date; less the Age it already has), within
    CACHE_MIN_SECONDS and CACHE_MAX_SECONDS. no-store and no-cache get the least; a document
    that says nothing, CACHE_DEFAULT_SECONDS."""
    control = parse_cache_control_header(headers.get("cache-control"), cls=ResponseCacheControl)
    lifetime: float
    if control.no_store or control.no_cache:
        lifetime = 0
    elif control.s_maxage is not None:
        lifetime = control.s_maxage
    elif control.max_age is not None:
        lifetime = control.max_age
    elif "expires" in headers:  # one that is not a date means already expired (section 5.3)
        expires = parse_date(headers["expires"])
        lifetime = (expires - (parse_date(headers.get("date")) or now)).total_seconds() if expires else 0
    else:
        lifetime = CACHE_DEFAULT_SECONDS
    age = headers.get("age", "")
    lifetime -= int(age) if age.isascii() and age.isdigit() else 0  # 1*DIGIT: "²" is a digit to Python
    return int(max(CACHE_MIN_SECONDS, min(CACHE_MAX_SECONDS, lifetime)))


def _invalid(client_id: str, problem: str) -> NoReturn:
    raise ClientDocumentError(f"The client metadata document at {client_id} is not valid: {problem.rstrip('.')}.")


def _count_fetch() -> None:
    """Each fetch counts against the address it is made for, with its registrations' limit: a
    request here makes this server send one to any public host."""
    if not has_request_context():
        return
    fetches = services().counter.hit(f"cimd-fetch:ip:{request.remote_addr}", FETCH_WINDOW_SECONDS)
    if fetches > current_settings().registrations_per_ip_per_hour:
        raise ClientDocumentError("Too many client metadata documents were fetched for this address; retry later.", 429)


def _known(client_id: str) -> Client | None:
    """The client with this id, enabled or not, as a copy outside the session."""
    row = db.session.execute(select(*Client.__table__.columns).where(Client.client_id == client_id)).mappings().first()
    return Client(**row) if row is not None else None


def _keep(client_id: str, metadata: dict[str, Any], fresh_until: datetime) -> Client:
    """Keep the document's metadata as the client's row, inserted the first time (another worker
    may insert it at the same moment: then it is updated)."""
    values = {**registered_clients.metadata_columns(metadata), "document_fresh_until": fresh_until}
    mine = update(Client).where(Client.client_id == client_id, Client.registered_via == FROM_METADATA_DOCUMENT).values(**values)
    if rowcount(db.session.execute(mine)) == 0:
        try:
            db.session.execute(insert(Client).values(client_id=client_id, registered_via=FROM_METADATA_DOCUMENT, **values))
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            db.session.execute(mine)
    db.session.commit()
    logger.info("client_document_fetched", extra={"client_id": client_id, "fresh_until": fresh_until.isoformat()})
    kept = _known(client_id)
    if kept is None:  # deleted in between: as unknown as before
        raise ClientDocumentError(f"The client {client_id} was removed while its document was read; try again.")
    return kept
