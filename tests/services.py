"""The PostgreSQL and Redis the tests need: from the environment, else local; started if installed.

The tests never skip for want of a server: they use it, start it, or stop at once saying what to
install.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379"
# The tests flush this Redis database, never the one a developer's REDIS_URL points at.
TEST_REDIS_DB = 15
START_TIMEOUT_SECONDS = 20


class ServiceUnavailable(Exception):
    """A server the tests need is not running and cannot be started here."""


@dataclass(frozen=True)
class Services:
    database_server_url: str
    redis_url: str


def find_services() -> Services:
    database_url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    redis_url = os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
    _ensure_postgres(database_url)
    _ensure_redis(redis_url)
    return Services(database_server_url=database_url, redis_url=with_path(redis_url, f"/{TEST_REDIS_DB}"))


def with_path(url: str, path: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


def _host_port(url: str, default_port: int) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or default_port


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _wait_until_reachable(host: str, port: int, what: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if _reachable(host, port):
            return
        time.sleep(0.2)
    raise ServiceUnavailable(f"{what} was started but does not answer on {host}:{port}.")


def _ensure_postgres(url: str) -> None:
    host, port = _host_port(url, 5432)
    if _reachable(host, port):
        return
    clusters = sorted(glob.glob("/etc/postgresql/*/main"))
    if not (shutil.which("pg_ctlcluster") and clusters and host in ("127.0.0.1", "localhost")):
        raise ServiceUnavailable(
            f"PostgreSQL does not answer on {host}:{port} and none is installed here. "
            "Install it (apt-get install postgresql) or set DATABASE_URL to a reachable server."
        )
    version = clusters[-1].split("/")[-2]
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"], check=True)
    _wait_until_reachable(host, port, "PostgreSQL")


def _ensure_redis(url: str) -> None:
    host, port = _host_port(url, 6379)
    if _reachable(host, port):
        return
    if not (shutil.which("redis-server") and host in ("127.0.0.1", "localhost")):
        raise ServiceUnavailable(
            f"Redis does not answer on {host}:{port} and none is installed here. "
            "Install it (apt-get install redis-server) or set REDIS_URL to a reachable server."
        )
    subprocess.run(
        ["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"],
        check=True,
    )
    _wait_until_reachable(host, port, "Redis")


CHROMIUM = "/usr/bin/chromium"


def find_chromium() -> str:
    """Debian's Chromium for the browser tests, installed through apt when we are root."""
    if os.path.exists(CHROMIUM):
        return CHROMIUM
    if os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=True, env=env)
        if os.path.exists(CHROMIUM):
            return CHROMIUM
    raise ServiceUnavailable(f"Chromium is not at {CHROMIUM}; install it (apt-get install chromium).")
