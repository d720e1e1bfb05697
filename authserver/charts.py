"""The geometry of the operations dashboard's charts, drawn by its templates as inline SVG: no
script, so nothing for the CSP to allow. Shapes are in the SVG's own units; the page's stylesheet
sizes and colours them, and every chart's numbers are in a table beside it."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

# One piece of a bar or column: its CSS class and how much it counts.
Part = tuple[str, float]


@dataclass(frozen=True)
class Segment:
    """A piece of a horizontal bar, in percent of the chart's width (the largest bar's whole)."""

    kind: str
    x: float
    width: float


@dataclass(frozen=True)
class Columns:
    """A column chart, one column per point, parts stacked: a path per kind of part, in a box
    `count` units wide and 100 high, whose top stands for `top`."""

    count: int
    top: int
    paths: dict[str, str]


def segments(parts: Sequence[Part], largest: float) -> list[Segment]:
    """The pieces of one bar laid end to end, scaled so that `largest` fills the width."""
    placed, x = [], 0.0
    for kind, value in parts:
        width = 100 * value / largest if largest > 0 else 0.0
        if width > 0:
            placed.append(Segment(kind, round(x, 3), round(width, 3)))
            x += width
    return placed


def columns(points: Sequence[Sequence[Part]]) -> Columns:
    """Stacked columns, each a unit wide with a gap, the parts of each in the order given."""
    top = nice_ceiling(max((sum(value for _, value in parts) for parts in points), default=0))
    drawn: dict[str, list[str]] = {}
    for index, parts in enumerate(points):
        base = 0.0
        for kind, value in parts:
            height = 100 * value / top
            if height > 0:
                # A rectangle from the column's base up: x, top edge, across, down, back.
                drawn.setdefault(kind, []).append(f"M{index + 0.1:g} {100 - base - height:.3f}h0.8v{height:.3f}h-0.8z")
            base += height
    return Columns(len(points), top, {kind: "".join(path) for kind, path in drawn.items()})


def nice_ceiling(value: float) -> int:
    """The smallest of 1, 2 or 5 times a power of ten at or above `value` (at least 1): an axis'
    top that reads well."""
    if value <= 1:
        return 1
    power = 10 ** math.floor(math.log10(value))
    return int(next(step * power for step in (1, 2, 5, 10) if step * power >= value))
