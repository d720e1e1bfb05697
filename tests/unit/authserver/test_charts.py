"""The dashboard's chart geometry (authserver/charts.py): bars scaled to the largest, columns
stacked from their base, an axis' top that reads well."""

from __future__ import annotations

import pytest

from authserver.charts import Segment, columns, nice_ceiling, segments


def test_a_bars_parts_lie_end_to_end_scaled_to_the_largest_and_empty_ones_are_left_out():
    assert segments([("other", 30), ("errors", 0), ("limited", 10)], largest=80) == [
        Segment("other", 0.0, 37.5),
        Segment("limited", 37.5, 12.5),
    ]
    assert segments([("other", 5)], largest=0) == []


@pytest.mark.parametrize(("value", "top"), [(0, 1), (1, 1), (3, 5), (10, 10), (11, 20), (240, 500), (501, 1000)])
def test_an_axis_top_is_one_two_or_five_times_a_power_of_ten(value, top):
    assert nice_ceiling(value) == top


def test_columns_stack_each_kind_in_one_path_from_the_base_up():
    chart = columns([[("other", 3), ("errors", 2)], [("other", 0), ("errors", 0)], [("other", 1), ("errors", 0)]])

    assert (chart.count, chart.top) == (3, 5)
    assert chart.paths == {
        "other": "M0.1 40.000h0.8v60.000h-0.8zM2.1 80.000h0.8v20.000h-0.8z",
        "errors": "M0.1 0.000h0.8v40.000h-0.8z",
    }
