"""Issue #21, signing-key rotation end to end: `drawbridge keys rotate` while a client keeps calling,
with an authorization server of several workers."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from joserfc import jws

from authserver.clients import NewClient
from tests import live
from tests.conftest import ARTIFACTS, Live
from tests.factories import make_client
from tests.mcp_http import rpc

pytestmark = pytest.mark.usefixtures("commits")

AUTH_WORKERS = 3
# Each worker looks at the keys every second (authserver/key_watcher.py): a generous bound for
# "at once", against the 30 s a worker kept its copy before.
REACH_SECONDS = 3.0


@pytest.fixture
def three_workers(live_services: Live) -> Iterator[str]:
    """An authorization server of AUTH_WORKERS workers on the live services' database."""
    env = {**live_services.env, "DRAWBRIDGE_AUTHSERVER_WORKERS": str(AUTH_WORKERS)}
    server = live.start("authserver:create_app()", "deploy/gunicorn_authserver.py", live.free_port(), env, ARTIFACTS / "authserver-3-workers.log")
    yield server.url
    server.stop()


@pytest.fixture
def caller(auth_context) -> NewClient:
    return make_client(scope="posts:read", rate_limit=1_000_000)


def token_from(url: str, settings, client: NewClient) -> str:
    """A token from `url` on a connection of its own (so the workers take turns answering)."""
    assert client.client_secret is not None
    form = {"grant_type": "client_credentials", "resource": settings.resource_url}
    response = httpx.post(f"{url}/token", data=form, auth=(client.client.client_id, client.client_secret), timeout=10)
    response.raise_for_status()
    return response.json()["access_token"]


def kid(token: str) -> str:
    return jws.extract_compact(token.encode()).protected["kid"]


def drawbridge(env: dict[str, str], *args: str) -> str:
    command = [str(Path(sys.executable).parent / "drawbridge"), *args]
    return subprocess.run(command, env={**os.environ, **env}, check=True, capture_output=True, text=True, timeout=60).stdout


def test_rotation_signs_with_the_new_key_on_every_worker_at_once_and_no_call_fails(live_services, settings, three_workers, caller):
    """While a client calls tools without pause, with the token it had and with new ones, the
    operator rotates the key: no call fails, the old token keeps working, and within REACH_SECONDS
    every worker signs with the new key."""
    old_token = token_from(three_workers, settings, caller)
    failures: list[str] = []
    calls = 0
    stop = threading.Event()

    def keep_calling() -> None:
        nonlocal calls
        while not stop.is_set():
            for token in (old_token, token_from(three_workers, settings, caller)):
                answer = rpc(settings.resource_url, token, "tools/call", {"name": "list_posts", "arguments": {}})
                calls += 1
                if answer.status_code != 200 or answer.json()["result"]["isError"]:
                    failures.append(f"{answer.status_code} {answer.text[:200]}")

    calling = threading.Thread(target=keep_calling)
    calling.start()
    try:
        time.sleep(1)
        new_kid = drawbridge(live_services.env, "keys", "rotate").strip().removeprefix("kid: ")
        rotated_at = time.monotonic()
        time.sleep(REACH_SECONDS)
        kids_after = {kid(token_from(three_workers, settings, caller)) for _ in range(8 * AUTH_WORKERS)}
        time.sleep(1)
    finally:
        stop.set()
        calling.join()

    assert kid(old_token) != new_kid
    assert kids_after == {new_kid}, f"{time.monotonic() - rotated_at:.1f} s after the rotation"
    assert failures == []
    assert calls > 20
