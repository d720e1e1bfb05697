"""Dynamic client registration (RFC 7591) and its management protocol (RFC 7592)."""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc7591 import InvalidClientMetadataError, InvalidRedirectURIError
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from authserver.models import Client
from authserver.oauth.errors import describe
from authserver.oauth.redirect_uris import RedirectUriError, check_registrable
from shared import scopes

AUTH_METHODS = ("none", "client_secret_basic", "client_secret_post")
GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials")
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
    response_types = fields.List(fields.String(validate=validate.Equal("code")), load_default=lambda: ["code"])
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
        if ("code" in data["response_types"]) != ("authorization_code" in grants):
            raise ValidationError("response_types code goes with the authorization_code grant.", "response_types")
        if unknown := scopes.unknown(scopes.parse(data.get("scope"))):
            raise ValidationError(f"Unknown scopes: {' '.join(unknown)}.", "scope")


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
