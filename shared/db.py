"""The one Flask-SQLAlchemy database both services use, with stable constraint names, bounded
waits, and what counts as the database being unavailable."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, cast

import psycopg
from flask_sqlalchemy import SQLAlchemy
from psycopg.abc import RV, PQGen
from psycopg.connection import _WAIT_INTERVAL  # noqa: SLF001 - wait()'s own default, kept
from sqlalchemy import CursorResult, DateTime, Dialect, MetaData, Result
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

logger = logging.getLogger(__name__)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING_CONVENTION))

# The base class of every table. Flask-SQLAlchemy makes `db.Model` at run time, and mypy takes no
# variable as a base class, so the type checker sees a plain SQLAlchemy declarative base instead.
if TYPE_CHECKING:

    class Model(DeclarativeBase):
        pass

else:
    Model = db.Model


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no offset of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime; use datetime.now(timezone.utc)")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None or value.tzinfo is not None:
            return value
        return value.replace(tzinfo=timezone.utc)


def rowcount(result: Result[Any]) -> int:
    """The rows an UPDATE or DELETE matched: SQLAlchemy runs those to a CursorResult, though it
    types Session.execute as returning a plain Result."""
    return cast(CursorResult[Any], result).rowcount


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


# What a client is told to wait when the database cannot answer: about one restart or failover step.
UNAVAILABLE_RETRY_AFTER_SECONDS = 5
# Whatever the database layer raises: SQLAlchemy's errors, and psycopg's from a raw connection.
DATABASE_ERRORS = (sa_exc.SQLAlchemyError, psycopg.Error)
# Unreachable, gone, or silent past the bounded wait (psycopg's pool timeouts are OperationalErrors
# too), as opposed to a statement the database refused.
_UNAVAILABLE = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError, psycopg.OperationalError, psycopg.InterfaceError)


def unavailable(error: BaseException) -> bool:
    """Whether `error` says the database could not be reached or did not answer in time."""
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, _UNAVAILABLE)


class BoundedConnection(psycopg.Connection[Any]):
    """A psycopg connection that waits at most `answer_timeout_seconds` for any answer. A frozen
    server (SIGSTOP, a stalled disk, a partition that keeps TCP up) otherwise holds a request for
    ever: its kernel still acknowledges what we send, so no socket or keepalive timeout fires. Past
    the bound the connection is closed (its state is unknown), which SQLAlchemy sees as a disconnect.
    A caller's own `timeout` is psycopg's (`notifies(timeout=...)` ends on it): left as it is."""

    answer_timeout_seconds: float | None = None

    def wait(self, gen: PQGen[RV], interval: float = _WAIT_INTERVAL, timeout: float | None = None) -> RV:
        bound = self.answer_timeout_seconds
        if timeout is not None or bound is None:
            return super().wait(gen, interval, timeout)
        try:
            return super().wait(gen, interval, bound)
        except psycopg.errors._WaitTimeout:  # noqa: SLF001 - psycopg's own signal that `timeout` passed
            self.pgconn.finish()
            raise psycopg.OperationalError(f"the database did not answer within {bound} s") from None


def connector(database_url: str, timeout_seconds: int, bound_answers: bool = True) -> Callable[[], BoundedConnection]:
    """SQLAlchemy's `creator`: a connection made within `timeout_seconds`, and, with
    `bound_answers`, waiting no longer than that for any answer."""
    return functools.partial(_connect, database_url, timeout_seconds, bound_answers)


def _connect(database_url: str, timeout_seconds: int, bound_answers: bool) -> BoundedConnection:
    connection = BoundedConnection.connect(database_url, connect_timeout=timeout_seconds)
    if bound_answers:
        connection.answer_timeout_seconds = timeout_seconds
    return connection


def bounded_waits(database_url: str, timeout_seconds: int, bound_answers: bool) -> dict[str, Any]:
    """Engine options so that no wait on PostgreSQL is unbounded: for a pooled connection, for a
    new one, and (for the services; not for migrations or jobs) for each answer."""
    if database_url.startswith("sqlite"):
        return {}
    return {"pool_timeout": timeout_seconds, "creator": connector(database_url, timeout_seconds, bound_answers)}


def release_session(exception: BaseException | None) -> None:
    """End the request's session without letting a dead connection turn the answer into a 500:
    rolling back on a connection the database dropped mid-request raises, and outside Flask's
    error handlers (gevent would answer a plain-text 500). Registered in place of Flask-SQLAlchemy's
    own teardown; nothing is lost, since whatever was committed is committed."""
    try:
        db.session.remove()
    except sa_exc.SQLAlchemyError:
        logger.warning("session_release_failed", exc_info=True)
