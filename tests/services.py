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
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from tests.file_lock import exclusive

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379"
# The tests flush this Redis database, never the one a developer's REDIS_URL points at; under
# pytest-xdist each worker takes its own, counting down from it (gw0: 15, gw1: 14, ...).
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
    return Services(database_server_url=database_url, redis_url=with_path(redis_url, f"/{TEST_REDIS_DB - worker_number()}"))


def worker_number() -> int:
    """Which pytest-xdist worker this process is (gw0 is 0), or 0 without xdist."""
    return int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))


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
INSTALL_LOCK = "/tmp/drawbridge-tests-apt.lock"
NGINX = "/usr/sbin/nginx"
# promtool comes with Debian's `prometheus` package; only the one program is taken out of it.
PROMTOOL_PACKAGE = "prometheus"


def find_chromium() -> str:
    """Debian's Chromium for the browser tests, installed through apt when we are root."""
    return _installed(CHROMIUM, "chromium")


def find_nginx() -> str:
    """Debian's nginx for the tests through a real proxy, installed through apt when we are root."""
    return shutil.which("nginx") or _installed(NGINX, "nginx")


def _installed(executable: str, package: str) -> str:
    if os.path.exists(executable):
        return executable
    with exclusive(INSTALL_LOCK):  # apt-get installs one package at a time
        return _install(executable, package)


def _install(executable: str, package: str) -> str:
    if os.path.exists(executable):  # another test worker installed it meanwhile
        return executable
    if os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", package], check=True, env=env)
        if os.path.exists(executable):
            return executable
    raise ServiceUnavailable(f"{executable} is missing; install it (apt-get install {package}).")


def find_promtool(cache: Path) -> str:
    """Prometheus' promtool, to check the alert rules and the services' metrics as Prometheus
    reads them: on the PATH, or taken out of Debian's `prometheus` package into `cache` (fetched with
    `apt-get download` and unpacked with dpkg-deb, so no Prometheus service is installed or started)."""
    found = shutil.which("promtool")
    if found:
        return found
    unpacked = cache / "usr" / "bin" / "promtool"
    if unpacked.exists():
        return str(unpacked)
    if not (shutil.which("apt-get") and shutil.which("dpkg-deb")):
        raise ServiceUnavailable("promtool is missing; install it (apt-get install prometheus).")
    cache.mkdir(parents=True, exist_ok=True)
    download = ["apt-get", "download", "-qq", PROMTOOL_PACKAGE]
    if subprocess.run(download, cwd=cache, capture_output=True).returncode != 0:
        if os.geteuid() != 0:
            raise ServiceUnavailable("promtool is missing and apt-get could not download it; install it (apt-get install prometheus).")
        subprocess.run(["apt-get", "update", "-qq"], check=True, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
        subprocess.run(download, cwd=cache, check=True)
    [package] = cache.glob(f"{PROMTOOL_PACKAGE}_*.deb")
    subprocess.run(["dpkg-deb", "-x", str(package), str(cache)], check=True)
    package.unlink()
    return str(unpacked)
