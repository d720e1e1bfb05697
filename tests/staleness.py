"""Tools for testing caches that go stale: a clock moved by hand, and a request arriving mid-query."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine


class Clock:
    """A stand-in for the `time` module of the code under test: `monotonic()` returns `now`."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


@dataclass
class MidQuery:
    """The statements run inside `arriving_mid_query`, and what the arriving request got."""

    queries: int = 0
    arriving_got: list[Any] = field(default_factory=list)


@contextmanager
def arriving_mid_query(engine: Engine, arriving_request: Callable[[], Any]) -> Iterator[MidQuery]:
    """Count the statements run inside; during the first, run `arriving_request`, as a request that
    arrives while the cache is being read again would."""
    seen = MidQuery()

    def on_statement(*_args: Any) -> None:
        seen.queries += 1
        if seen.queries == 1:
            seen.arriving_got.append(arriving_request())

    event.listen(engine, "before_cursor_execute", on_statement)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", on_statement)
