"""The gunicorn hooks both services' configurations use."""

from __future__ import annotations

import gc
from pathlib import Path
from types import SimpleNamespace

import pytest

from serving.hooks import YOUNG_GENERATION_THRESHOLD, child_exit, on_starting, post_worker_init
from shared.settings import SERVER_WORKERS_VARIABLE, Settings


def test_a_new_worker_freezes_what_start_up_made_and_collects_young_objects_less_often() -> None:
    assert gc.get_freeze_count() == 0
    thresholds = gc.get_threshold()
    try:
        post_worker_init(SimpleNamespace(pid=1, wsgi=SimpleNamespace(extensions={}), cfg=SimpleNamespace(worker_connections=1000)))
        # Everything alive now is out of the collector's reach; full collections skip it.
        assert gc.get_freeze_count() > 10_000
        assert gc.get_threshold() == (YOUNG_GENERATION_THRESHOLD, *thresholds[1:])
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)


def test_a_dead_worker_stops_counting_in_live_gauges(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Open SSE streams are a live sum over workers: a dead worker's streams are gone, its counts stay."""
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    for name in ("gauge_livesum_4242.db", "gauge_livesum_4343.db", "counter_4242.db"):
        (tmp_path / name).write_bytes(b"")
    child_exit(None, SimpleNamespace(pid=4242))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["counter_4242.db", "gauge_livesum_4343.db"]


def test_workers_learn_how_many_they_are_from_gunicorns_final_count(monkeypatch: pytest.MonkeyPatch) -> None:
    """-w and GUNICORN_CMD_ARGS override the configuration file's `workers`: the hook reads the result."""
    monkeypatch.setenv(SERVER_WORKERS_VARIABLE, "1")
    on_starting(SimpleNamespace(cfg=SimpleNamespace(workers=4)))
    assert Settings.from_env().server_workers == 4
