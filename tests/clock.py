"""A stand-in for the `time` module of code under test, moved by hand."""

from __future__ import annotations


class Clock:
    """`monotonic()` returns `now`, which the test advances."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now
