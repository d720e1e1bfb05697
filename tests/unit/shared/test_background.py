import threading
import time

from shared.background import BackgroundLoop


def looping(turns: list[int]) -> BackgroundLoop:
    loop: BackgroundLoop

    def target() -> None:
        while loop.running:
            turns.append(1)
            loop.pause(0.01)

    loop = BackgroundLoop(target, "test-loop")
    return loop


def test_start_runs_the_loop_once_however_often_it_is_called():
    loop = looping([])
    loop.start()
    loop.start()
    try:
        assert [t.name for t in threading.enumerate()].count("test-loop") == 1
    finally:
        loop.stop(wait_seconds=1)


def test_stop_ends_the_loop_at_its_next_pause_and_start_runs_it_again():
    turns: list[int] = []
    loop = looping(turns)
    loop.start()
    loop.stop(wait_seconds=1)
    assert "test-loop" not in [t.name for t in threading.enumerate()]
    stopped_at = len(turns)
    loop.start()
    try:
        deadline = time.monotonic() + 5
        while len(turns) == stopped_at and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        loop.stop(wait_seconds=1)
    assert len(turns) > stopped_at


def test_a_loop_stopped_without_waiting_ends_even_when_started_again_at_once():
    """A stop that does not wait, then a start before the old thread's next pause: one loop runs."""
    loop = looping([])
    loop.start()
    loop.stop()
    loop.start()
    try:
        deadline = time.monotonic() + 5
        while [t.name for t in threading.enumerate()].count("test-loop") > 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert [t.name for t in threading.enumerate()].count("test-loop") == 1
    finally:
        loop.stop(wait_seconds=1)
