"""People who log in: create and list them, check their passwords, change them, disable and enable them."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from authserver import cutoffs, passwords
from authserver.models import Grant, User
from shared import revocation
from shared.db import db, utcnow

logger = logging.getLogger(__name__)

MIN_PASSWORD_LENGTH = 12
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class UserSpecError(ValueError):
    """The user cannot be created or changed; the message says what to change."""


@dataclass(frozen=True)
class UserSummary:
    """A person as an operator sees them (never the password hash)."""

    email: str
    created_at: datetime
    disabled_at: datetime | None
    #: Grants they have given clients and not revoked (grants.py).
    live_grants: int


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
        select(User.email, User.created_at, User.disabled_at, func.coalesce(live.c.n, 0))
        .outerjoin(live, live.c.user_id == User.id)
        .order_by(User.email)
    )
    return [UserSummary(*row) for row in rows]


def authenticate(email: str, password: str) -> User | None:
    """The enabled user with this email and password, or None (taking the same time either way)."""
    user = db.session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))
    ok = passwords.verify(password, user.password_hash if user else None)
    return user if ok and user is not None and user.disabled_at is None else None


def set_password(email: str, password: str) -> User:
    """A new password; every session of the person ends, so whoever knew the old one is signed out."""
    user = find_user(email)
    _check_password(password)
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


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserSpecError(f"The password needs at least {MIN_PASSWORD_LENGTH} characters.")
