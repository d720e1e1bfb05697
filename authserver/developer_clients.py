"""The developer portal's clients: those a developer registered there, each theirs alone, and the one
rule a developer is held to beyond client_specs.py: a machine client only within the scopes an
operator allows developers (DRAWBRIDGE_DEVELOPER_MACHINE_SCOPES; none by default).

Issue #18's policy, as open registration keeps it (oauth/registration.py): an app that acts for a
person holds no scope of its own. Its `scope` is what it may ask a person for, and its tokens carry
only what that person consents to. A machine acts on its own, so what it may hold is an operator's
decision, never the developer's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import select

from authserver.client_specs import MACHINE, ClientKind, ClientSpecError, checked_name, checked_redirect_uris, checked_scopes
from authserver.client_summaries import ClientSummary, list_clients
from authserver.clients import NewClient, create_client
from authserver.models import Client, User
from shared.app import current_settings
from shared.db import db

NO_MACHINES = (
    "This server lets developers register no machine clients: a machine acts on its own, with no person "
    "consenting, so the scopes it holds are the operator's decision. Ask an operator for one, or register "
    "a web or public app, which acts for the people who allow it."
)


class NotYoursError(LookupError):
    """No client with this id belongs to this developer: whether another's or none, they are told the same."""


def machine_scopes() -> tuple[str, ...]:
    """The scopes a developer may give a machine client; none: they may register no machine."""
    return current_settings().developer_machine_scopes


def problems(name: str, kind: ClientKind, scope: str, redirect_uris: Sequence[str]) -> dict[str, str]:
    """What is wrong with each part of a client a developer asks for, by part ("name", "scopes",
    "redirect_uris"): client_specs.py's checks, each run on its own so every problem is named at
    once, and the machine scopes an operator allows."""
    checks: dict[str, Callable[[], object]] = {
        "name": lambda: checked_name(name),
        "scopes": lambda: _within_allowance(kind, checked_scopes(scope, may_introspect=False)),
        "redirect_uris": lambda: checked_redirect_uris(kind, redirect_uris),
    }
    found = {}
    for part, check in checks.items():
        try:
            check()
        except ClientSpecError as error:
            found[part] = str(error)
    return found


def register(developer: User, name: str, kind: ClientKind, scope: str, redirect_uris: Sequence[str]) -> NewClient:
    """Create a client owned by `developer` (clients.create_client); ClientSpecError if any part
    is refused (`problems` says which), and then nothing is stored."""
    if found := problems(name, kind, scope, redirect_uris):
        raise ClientSpecError(" ".join(found.values()))
    return create_client(name, scope, kind, redirect_uris, owner_id=developer.id)


def owned_clients(developer: User) -> list[ClientSummary]:
    """The clients `developer` registered, newest first."""
    return list_clients(owner_id=developer.id)


def owned_client(developer: User, client_id: str) -> Client:
    """The client `client_id` if `developer` registered it, else NotYoursError."""
    client = db.session.scalar(select(Client).where(Client.client_id == client_id, Client.owner_id == developer.id))
    if client is None:
        raise NotYoursError(f"{client_id!r} is not a client of user {developer.id}")
    return client


def _within_allowance(kind: ClientKind, requested: list[str]) -> None:
    if kind is not MACHINE:
        return
    allowed = machine_scopes()
    if not allowed:
        raise ClientSpecError(NO_MACHINES)
    if beyond := [s for s in requested if s not in allowed]:
        raise ClientSpecError(
            f"A machine client may hold only the scopes this server allows developers ({' '.join(allowed)}), "
            f"not {' '.join(beyond)}."
        )
