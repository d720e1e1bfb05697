"""Dynamic client registration (RFC 7591) and its management protocol (RFC 7592): the metadata, and
who may register what.

Open registration (no initial access token) creates only clients that act for a person: the
authorization_code grant, optionally with refresh_token. Such a client holds no scopes of its own:
its `scope` is only what it may ask a person for, and each token carries what the person consented
to. A machine client (client_credentials) needs an initial access token an operator issued, and
holds at most that token's scopes. RFC 7591 section 3 allows both: registration "without an initial
access token" restricted "to certain types of clients", and a token that limits registration "to a
specific set of scopes".

The endpoints are our own (views/oauth.py), not Authlib's ClientRegistrationEndpoint and
ClientConfigurationEndpoint (authlib.oauth2.rfc7591, rfc7592), which would need nearly every step
replaced: they take a request without a credential for a refusal (access_denied), where open
registration has none; they read the body with Flask's JSON parser, without our depth limit and
unstorable-text check; they put a client_secret (null at best) in every answer, public clients'
included; they answer with the metadata as validated, not the client as stored with its resolved scope;
and a missing or wrong registration access token gets 400 access_denied where RFC 7592 section 2
asks for RFC 6750's 401 invalid_token, a body naming another client_id a bare invalid_request.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from authlib.oauth2.rfc7591 import InvalidClientMetadataError, InvalidRedirectURIError
from marshmallow import EXCLUDE, Schema, ValidationError, fields, post_load, validate, validates_schema

from authserver.models import Client, InitialAccessToken
from authserver.oauth.errors import describe
from authserver.oauth.redirect_uris import RedirectUriError, check_registrable
from shared import scopes

AUTH_METHODS = ("none", "client_secret_basic", "client_secret_post")
GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials")
PERSON_GRANT_TYPES = frozenset({"authorization_code", "refresh_token"})
# The metadata fields we keep as registered and return on RFC 7592 reads.
DESCRIPTIVE_FIELDS = ("client_uri", "logo_uri", "tos_uri", "policy_uri", "contacts", "software_id", "software_version", "application_type")


class ClientMetadataSchema(Schema):
    """RFC 7591 section 2. Unknown fields are ignored, as section 2 requires."""

    class Meta:
        unknown = EXCLUDE

    redirect_uris = fields.List(fields.String(validate=validate.Length(max=2000)), validate=validate.Length(max=20))
    token_endpoint_auth_method = fields.String(load_default="client_secret_basic", validate=validate.OneOf(AUTH_METHODS))
    grant_types = fields.List(
        fields.String(validate=validate.OneOf(GRANT_TYPES)), load_default=lambda: ["authorization_code"]
    )
    # No load_default: when absent it follows grant_types (default_response_types).
    response_types = fields.List(fields.String(validate=validate.Equal("code")))
    client_name = fields.String(validate=validate.Length(min=1, max=200))
    scope = fields.String(validate=validate.Length(max=2000))
    client_uri = fields.Url(schemes={"https"})
    logo_uri = fields.Url(schemes={"https"})
    tos_uri = fields.Url(schemes={"https"})
    policy_uri = fields.Url(schemes={"https"})
    contacts = fields.List(fields.Email(), validate=validate.Length(max=10))
    software_id = fields.String(validate=validate.Length(max=200))
    software_version = fields.String(validate=validate.Length(max=200))
    application_type = fields.String(validate=validate.OneOf(("web", "native")))

    @validates_schema
    def check_consistency(self, data: dict[str, Any], **kwargs: Any) -> None:
        grants = set(data["grant_types"])
        if "authorization_code" in grants and not data.get("redirect_uris"):
            raise ValidationError("The authorization_code grant needs at least one redirect URI.", "redirect_uris")
        if "refresh_token" in grants and "authorization_code" not in grants:
            raise ValidationError("refresh_token is only offered together with authorization_code.", "grant_types")
        if "client_credentials" in grants and data["token_endpoint_auth_method"] == "none":
            raise ValidationError("A public client (auth method none) cannot use client_credentials.", "grant_types")
        if ("code" in data.get("response_types", default_response_types(grants))) != ("authorization_code" in grants):
            raise ValidationError("response_types code goes with the authorization_code grant.", "response_types")
        if unknown := scopes.unknown(scopes.parse(data.get("scope"))):
            raise ValidationError(f"Unknown scopes: {' '.join(unknown)}.", "scope")

    @post_load
    def fill_response_types(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        return {"response_types": default_response_types(data["grant_types"]), **data}


def default_response_types(grant_types: Collection[str]) -> list[str]:
    """RFC 7591 §2 defaults response_types to ["code"], the authorization_code grant's response
    type; a client registered without that grant (a machine's client_credentials) has no use for
    it, so its default is none, and the metadata stays consistent as §2 asks."""
    return ["code"] if "authorization_code" in grant_types else []


def validate_metadata(body: Any) -> dict[str, Any]:
    """The validated metadata, or the RFC 7591 section 3.2.2 error for the first thing wrong."""
    if not isinstance(body, dict):
        raise InvalidClientMetadataError("The request body must be a JSON object of client metadata.")
    try:
        metadata = ClientMetadataSchema().load(body)
    except ValidationError as error:
        messages = error.normalized_messages()
        if "redirect_uris" in messages:
            raise InvalidRedirectURIError(describe(f"redirect_uris: {_flatten(messages['redirect_uris'])}")) from None
        raise InvalidClientMetadataError(describe(_flatten(messages))) from None
    for uri in metadata.get("redirect_uris", []):
        try:
            check_registrable(uri)
        except RedirectUriError as error:
            raise InvalidRedirectURIError(describe(str(error))) from None
    return metadata


@dataclass(frozen=True)
class Allowance:
    """What a registration (or an RFC 7592 update) may ask for."""

    #: Whether the client may act on its own (client_credentials), with no person involved.
    machine: bool
    #: The most its `scope` may hold; also its `scope` when it names none.
    scope: tuple[str, ...]
    #: Who set that bound, for the refusal's description.
    bound_by: str


#: Open registration: any catalogue scope, but only to ask a person for (no client_credentials).
OPEN = Allowance(machine=False, scope=tuple(sorted(scopes.SCOPE_NAMES)), bound_by="open registration")


def allowance_of(token: InitialAccessToken) -> Allowance:
    """A registration with an operator's initial access token: machine grants, within its scopes."""
    return Allowance(machine=True, scope=tuple(scopes.parse(token.scope)), bound_by="the initial access token")


def allowance_for_update(client: Client) -> Allowance:
    """RFC 7592 section 2.2 lets the server "reject or replace any of the client's requested metadata
    values": an update stays within its registration's bounds. A machine client keeps (or narrows)
    the scopes it holds; a client without client_credentials cannot gain it: that takes an operator."""
    if client.check_grant_type("client_credentials"):
        return Allowance(machine=True, scope=tuple(scopes.parse(client.scope)), bound_by="this client's registration")
    return OPEN


def within(metadata: dict[str, Any], allowance: Allowance) -> dict[str, Any]:
    """`metadata` with its `scope` resolved under `allowance`, or invalid_client_metadata (RFC 7591
    section 3.2.2). A scope beyond the bound is refused, not narrowed, so the client learns it at once."""
    grants = set(metadata["grant_types"])
    if not allowance.machine and (grants - PERSON_GRANT_TYPES or "authorization_code" not in grants):
        raise InvalidClientMetadataError(
            "Without an initial access token a client acts for a person: grant_types authorization_code,"
            " optionally with refresh_token. A machine client (client_credentials) registers with an"
            " initial access token from the operator (Authorization: Bearer)."
        )
    requested = scopes.parse(metadata.get("scope"))
    if beyond := [s for s in requested if s not in allowance.scope]:
        raise InvalidClientMetadataError(
            describe(f"scope: {allowance.bound_by} allows at most {' '.join(allowance.scope)}; not {' '.join(beyond)}.")
        )
    return {**metadata, "scope": " ".join(requested or allowance.scope)}


def client_information(client: Client, base_url: str) -> dict[str, Any]:
    """RFC 7591 section 3.2.1: the client's id and its metadata as registered."""
    info: dict[str, Any] = {
        "client_id": client.client_id,
        "client_id_issued_at": int(client.created_at.timestamp()),
        "client_name": client.client_name,
        "redirect_uris": client.redirect_uris,
        "token_endpoint_auth_method": client.token_endpoint_auth_method,
        "grant_types": client.grant_types.split(),
        "response_types": client.response_types.split(),
        "scope": client.scope,
        "registration_client_uri": f"{base_url}/register/{client.client_id}",
    }
    if not client.is_public:
        info["client_secret_expires_at"] = 0
    info.update({k: v for k, v in client.client_metadata.items() if k in DESCRIPTIVE_FIELDS})
    return info


def _flatten(messages: Any) -> str:
    if isinstance(messages, dict):
        return " ".join(f"{key}: {_flatten(value)}" for key, value in messages.items())
    if isinstance(messages, list):
        return " ".join(_flatten(m) for m in messages)
    return str(messages)
