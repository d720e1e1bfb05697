"""What every operator command shares: refusals and Redis failures said in words, and durations such as 7d."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click
import redis

# A disable is committed to the database before its revocation goes to Redis (clients.disable_client).
# Written with the command's own arguments: {client_id}, {email}.
REVOCATION_NOT_WRITTEN = (
    "{who}: disabled in the database (no new tokens; {what} void), but Redis is unreachable, so its "
    "access tokens are not yet void at the MCP server (which refuses every call while Redis is down). "
    "Run `{again}` again once Redis answers."
)
# A grant is revoked in the database before its revocation goes to Redis (grants.revoke).
GRANT_REVOCATION_NOT_WRITTEN = (
    "{grant_id}: revoked in the database (its refresh tokens void, the consent forgotten), but Redis is "
    "unreachable, so its access tokens are not yet void at the MCP server (which refuses every call while "
    "Redis is down). Run `drawbridge grants revoke {grant_id}` again once Redis answers."
)
# Every resource server reads a client's limit from Redis: a limit only the database knew would
# not apply, so nothing is changed.
REDIS_UNREACHABLE = "Redis is unreachable, so nothing was changed; run the command again once it answers."
# A client is removed only once Redis has voided its tokens (clients.delete_client).
PRUNE_STOPPED = "Redis is unreachable, so the clients not yet removed were kept; run the command again once it answers."


@contextmanager
def refused(*errors: type[Exception]) -> Iterator[None]:
    """A service's refusal (an unknown id, a bad value: its message says what to change) as a usage
    error: the message, exit status 2, no traceback."""
    try:
        yield
    except errors as error:
        raise click.UsageError(str(error)) from error


def explains_redis_errors(message: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """A command that says `message` (formatted with the command's arguments) when Redis cannot be
    reached, instead of printing a traceback."""

    def decorate(command: Callable[..., None]) -> Callable[..., None]:
        @functools.wraps(command)
        def run(**params: Any) -> None:
            try:
                command(**params)
            except redis.RedisError as error:
                raise click.ClickException(message.format(**params)) from error

        return run

    return decorate


class Duration(click.ParamType):
    """A whole number of seconds, minutes, hours or days, written with its unit: 90s, 30m, 12h, 7d;
    or 0, which needs none."""

    name = "duration"
    SECONDS_PER_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}

    def convert(self, value: str | int, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        if value == "0":
            return 0
        number, unit = value[:-1], value[-1:]
        if unit not in self.SECONDS_PER_UNIT or not number.isdigit():
            self.fail(f"{value!r} is not a duration such as 30m, 12h or 7d.", param, ctx)
        return int(number) * self.SECONDS_PER_UNIT[unit]
