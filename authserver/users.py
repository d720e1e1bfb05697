"""People who log in: create and list them, check their passwords, change them, disable and enable
them, give them roles and take roles away."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from authserver import cutoffs, passwords
from authserver.models import ROLES, Grant, User, UserRole
from shared import revocation
from shared.db import db, utcnow

logger = logging.getLogger(__name__)

MIN_PASSWORD_LENGTH = 12
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class UserSpecError(ValueError):
    """The user cannot be created or changed; the message says what to change."""


class WrongPasswordError(UserSpecError):
    """The password given as the person's current one is not."""


@dataclass(frozen=True)
class UserSummary:
    """A person as an operator sees them (never the password hash)."""

    email: str
    created_at: datetime
    disabled_at: datetime | None
    #: Grants they have given clients and not revoked (grants.py).
    live_grants: int
    #: The roles they hold (models.ROLES), sorted.
    roles: tuple[str, ...]


def normalise_email(email: str) -> str:
    return email.strip().lower()


def create_user(email: str, password: str) -> User:
    email = normalise_email(email)
    if not _EMAIL.match(email):
        raise UserSpecError(f"{email!r} is not an email address.")
    _check_password(password)
    if db.session.scalar(select(User.id).where(User.email == email)):
        raise UserSpecError(f"A user with the email {email} exists.")
    user = User(email=email, password_hash=passwords.hash_password(password))
    db.session.add(user)
    db.session.commit()
    return user


def list_users() -> list[UserSummary]:
    """Every person, by email."""
    live = select(Grant.user_id, func.count().label("n")).where(Grant.revoked_at.is_(None)).group_by(Grant.user_id).subquery()
    rows = db.session.execute(
        select(User.id, User.email, User.created_at, User.disabled_at, func.coalesce(live.c.n, 0))
        .outerjoin(live, live.c.user_id == User.id)
        .order_by(User.email)
    )
    held: dict[int, list[str]] = {}
    for user_id, role in db.session.execute(select(UserRole.user_id, UserRole.role).order_by(UserRole.role)):
        held.setdefault(user_id, []).append(role)
    return [
        UserSummary(email, created, disabled, grants, tuple(held.get(user_id, ())))
        for user_id, email, created, disabled, grants in rows
    ]


def authenticate(email: str, password: str) -> User | None:
    """The enabled user with this email and password, or None (taking the same time either way)."""
    user = db.session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))
    ok = passwords.verify(password, user.password_hash if user else None)
    return user if ok and user is not None and user.disabled_at is None else None


def set_password(email: str, password: str) -> User:
    """A new password; every session of the person ends, so whoever knew the old one is signed out."""
    user = find_user(email)
    _check_password(password)
    return _replace_password(user, password)


def change_own_password(user: User, current_password: str, new_password: str) -> User:
    """The person's own change: only with their current password (a session left open on someone
    else's screen is not enough), then as set_password. Every session ends, the caller's too."""
    if not passwords.verify(current_password, user.password_hash):
        raise WrongPasswordError("This is not your current password.")
    _check_password(new_password)
    return _replace_password(user, new_password)


def _replace_password(user: User, password: str) -> User:
    user.password_hash = passwords.hash_password(password)
    end_sessions(user)
    db.session.commit()
    logger.info("password_changed", extra={"user_id": user.id})
    return user


def disable_user(email: str) -> User:
    """The person can no longer log in; their sessions end and every token issued for them fails at
    once. As with clients.disable_client, the database change is committed before the revocation
    goes to Redis, and running this again writes a revocation Redis could not take."""
    user = find_user(email)
    if user.disabled_at is None:
        cutoffs.withdraw(revocation.PERSON, str(user.id))
        user.disabled_at = utcnow()
        end_sessions(user)
        db.session.commit()
        logger.warning("user_disabled", extra={"user_id": user.id})
    cutoffs.void_access_tokens(revocation.PERSON, str(user.id), user.disabled_at)
    return user


def enable_user(email: str) -> User:
    """The person may log in again; the tokens issued for them before stay void."""
    user = find_user(email)
    if user.disabled_at is not None:
        cutoffs.restore(revocation.PERSON, str(user.id), user.disabled_at)
        user.disabled_at = None
        db.session.commit()
        logger.info("user_enabled", extra={"user_id": user.id})
    return user


def assign_role(email: str, role: str) -> User:
    """Give the person `role` (models.ROLES); giving one they hold changes nothing. It counts from
    their next page: roles are read on every request, so their session need not end."""
    user = find_user(email)
    _check_role(role)
    if not user.has_role(role):
        user.roles.append(UserRole(role=role))
        db.session.commit()
        logger.info("role_assigned", extra={"user_id": user.id, "role": role})
    return user


def remove_role(email: str, role: str) -> User:
    """Take `role` from the person; taking one they do not hold changes nothing. Their next page
    is without it (the pages read roles on every request)."""
    user = find_user(email)
    _check_role(role)
    held = [r for r in user.roles if r.role == role]
    if held:
        user.roles.remove(held[0])
        db.session.commit()
        logger.info("role_removed", extra={"user_id": user.id, "role": role})
    return user


def end_sessions(user: User) -> None:
    """End every session of the person (the caller commits): a session cookie carries the
    generation it was signed in at, and only the current one signs anybody in."""
    user.session_generation += 1


def find_user(email: str) -> User:
    """The person with this email (in any case), or UserSpecError saying there is none."""
    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        raise UserSpecError(f"No user with the email {normalise_email(email)}.")
    return user


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise UserSpecError(f"{role!r} is not a role; the roles are {', '.join(ROLES)}.")


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserSpecError(f"The password needs at least {MIN_PASSWORD_LENGTH} characters.")
