"""What a client may be, checked before anything is stored: its kind, name, scopes and redirect URIs.

The kinds an operator or a developer makes, in RFC 6749's terms (section 2.1). A machine acts on its own with the client_credentials grant. A web app and a public app act for a
person (the authorization_code grant with refresh_token, sending the browser to their redirect
URIs): a web app keeps a secret on its server (confidential), a public app, which runs where its
user can read it (a desktop or mobile app, an SPA), has none and authenticates by PKCE alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from authserver.models import Client
from authserver.oauth.redirect_uris import RedirectUriError, check_registrable
from shared import scopes


class ClientSpecError(ValueError):
    """The requested client cannot be made or changed so; the message says what to change."""


@dataclass(frozen=True)
class ClientKind:
    name: str
    #: In plain words, for help texts and pages.
    title: str
    grant_types: tuple[str, ...]
    token_endpoint_auth_method: str
    response_types: tuple[str, ...]

    @property
    def acts_for_a_person(self) -> bool:
        """Whether it sends people through the browser, and so needs redirect URIs."""
        return "authorization_code" in self.grant_types

    @property
    def has_secret(self) -> bool:
        return self.token_endpoint_auth_method != "none"


MACHINE = ClientKind("machine", "acts on its own (client_credentials)", ("client_credentials",), "client_secret_basic", ())
WEB_APP = ClientKind(
    "web", "a web app whose server keeps a secret, for people", ("authorization_code", "refresh_token"), "client_secret_basic", ("code",)
)
PUBLIC_APP = ClientKind(
    "public", "an app with no secret (desktop, mobile, in-browser), for people", ("authorization_code", "refresh_token"), "none", ("code",)
)
KINDS: dict[str, ClientKind] = {kind.name: kind for kind in (MACHINE, WEB_APP, PUBLIC_APP)}


def kind_of(client: Client) -> ClientKind:
    """The kind a client is, or for a registered one (which may, say, have no refresh_token) is closest to."""
    if client.check_grant_type("client_credentials"):
        return MACHINE
    return PUBLIC_APP if client.is_public else WEB_APP


def checked_name(name: str) -> str:
    """The name without surrounding spaces; never empty."""
    if not name.strip():
        raise ClientSpecError("A client needs a name.")
    return name.strip()


def checked_scopes(scope: str, may_introspect: bool) -> list[str]:
    """The scopes as a sorted list, each in the catalogue; at least one unless the client introspects."""
    requested = scopes.parse(scope)
    if unknown := scopes.unknown(requested):
        raise ClientSpecError(f"Unknown scopes: {' '.join(unknown)}. Known: {' '.join(sorted(scopes.SCOPE_NAMES))}.")
    if not requested and not may_introspect:
        raise ClientSpecError("A client needs at least one scope (only a resource server's credentials, which introspect, may have none).")
    return requested


def checked_redirect_uris(kind: ClientKind, uris: Sequence[str]) -> list[str]:
    """The URIs without repeats, each one registrable (redirect_uris.check_registrable); an app
    needs at least one, a machine none."""
    unique = list(dict.fromkeys(uris))
    if not kind.acts_for_a_person:
        if unique:
            raise ClientSpecError("A machine client has no redirect URIs: it sends nobody through a browser.")
        return []
    if not unique:
        raise ClientSpecError(f"A {kind.name} app needs at least one redirect URI, where people come back after consenting.")
    for uri in unique:
        try:
            check_registrable(uri)
        except RedirectUriError as error:
            raise ClientSpecError(str(error)) from None
    return unique
