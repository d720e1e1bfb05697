"""People who log in: create them, and check their passwords."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from authserver import passwords
from authserver.models import User
from shared.db import db

MIN_PASSWORD_LENGTH = 12
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class UserSpecError(ValueError):
    """The user cannot be created; the message says what to change."""


def normalise_email(email: str) -> str:
    return email.strip().lower()


def create_user(email: str, password: str) -> User:
    email = normalise_email(email)
    if not _EMAIL.match(email):
        raise UserSpecError(f"{email!r} is not an email address.")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserSpecError(f"The password needs at least {MIN_PASSWORD_LENGTH} characters.")
    if db.session.scalar(select(User.id).where(User.email == email)):
        raise UserSpecError(f"A user with the email {email} exists.")
    user = User(email=email, password_hash=passwords.hash_password(password))
    db.session.add(user)
    db.session.commit()
    return user


def authenticate(email: str, password: str) -> User | None:
    """The enabled user with this email and password, or None (taking the same time either way)."""
    user = db.session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))
    ok = passwords.verify(password, user.password_hash if user else None)
    return user if ok and user is not None and user.disabled_at is None else None
