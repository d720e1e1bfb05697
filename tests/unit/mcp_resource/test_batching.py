"""The batcher: one flush for many callers, each hearing its own answer or its own failure."""

from __future__ import annotations

import threading

import pytest

from mcp_resource.batching import Batcher, Failed


def test_a_failed_answer_reaches_its_caller_alone():
    def flush(items: list[int]) -> list[int | Failed]:
        return [Failed(ValueError(f"odd {item}")) if item % 2 else item * 10 for item in items]

    batcher: Batcher[int, int] = Batcher("test", flush, max_batch=10, wait_seconds=5)
    answers: dict[int, object] = {}

    def submit(item: int) -> None:
        try:
            answers[item] = batcher.submit(item)
        except ValueError as error:
            answers[item] = str(error)

    threads = [threading.Thread(target=submit, args=(item,)) for item in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert answers == {0: 0, 1: "odd 1", 2: 20, 3: "odd 3"}
    assert batcher.submit(4) == 40  # the loop goes on
    with pytest.raises(ValueError):
        batcher.submit(5)
