"""Servers a fault test owns: its own redis-server and its own PostgreSQL cluster, which it may
stop, crash, freeze and restart without touching the shared ones the other tests use."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import redis

from tests import live

START_TIMEOUT_SECONDS = 20
POSTGRES_BIN = sorted(Path("/usr/lib/postgresql").glob("*/bin"))


class MissingServer(Exception):
    """redis-server or PostgreSQL's binaries are not installed here."""


def _wait_for(check, what: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        try:
            check()
            return
        except Exception:
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not answer within {START_TIMEOUT_SECONDS}s")


@dataclass
class OwnRedis:
    """A redis-server on a port of its own; the port stays the same across restarts."""

    port: int = field(default_factory=live.free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        if not shutil.which("redis-server"):
            raise MissingServer("redis-server is needed for the fault tests (apt-get install redis-server)")
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        _wait_for(lambda: redis.Redis(port=self.port, socket_timeout=1).ping(), "redis-server")

    def stop(self) -> None:
        """A clean shutdown (the data is gone: nothing is saved)."""
        if self.process is not None:
            self.process.terminate()
            self.process.wait()
            self.process = None

    def crash(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def freeze(self) -> None:
        """SIGSTOP: the port still accepts connections, nothing answers."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def restart(self) -> None:
        self.stop()
        self.start()

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_timeout=2, socket_connect_timeout=2)


@dataclass
class OwnPostgres:
    """A PostgreSQL cluster of its own (initdb in a temporary directory, run as the postgres user,
    trust authentication on 127.0.0.1), on a port of its own."""

    port: int = field(default_factory=live.free_port)
    directory: Path | None = None
    max_connections: int = 100

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def database_url(self, name: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def _run(self, *command: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
        if not POSTGRES_BIN:
            raise MissingServer("PostgreSQL is needed for the fault tests (apt-get install postgresql)")
        program = str(POSTGRES_BIN[-1] / command[0])
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        return subprocess.run([*prefix, program, *command[1:]], check=check, capture_output=True)

    def init(self) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="drawbridge-faults-pg-"))
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres", "postgres")
        self._run("initdb", "-D", str(self.directory / "data"), "-A", "trust", "-U", "postgres", "--no-sync")

    def start(self) -> None:
        assert self.directory is not None, "init() first"
        # pg_stat_statements: a test can count the statements a service ran (CREATE EXTENSION first).
        options = (
            f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections={self.max_connections}"
            " -c shared_preload_libraries=pg_stat_statements"
        )
        self._run("pg_ctl", "-D", str(self.directory / "data"), "-o", options, "-l", str(self.directory / "log"), "-w", "start")
        _wait_for(lambda: psycopg.connect(self.url, connect_timeout=1).close(), "PostgreSQL")

    def stop(self, mode: str = "fast") -> None:
        """`fast` disconnects every client and shuts down cleanly; `immediate` is a crash."""
        assert self.directory is not None
        self._run("pg_ctl", "-D", str(self.directory / "data"), "-m", mode, "-w", "stop", check=False)

    def restart(self) -> None:
        self.stop()
        self.start()

    def leave_running(self) -> None:
        """After a test that froze or stopped the cluster: thawed and started again."""
        try:
            self.thaw()
        except OSError:  # stopped: no postmaster to signal
            pass
        try:
            psycopg.connect(self.url, connect_timeout=2).close()
        except psycopg.OperationalError:
            self.start()

    def postmaster_pid(self) -> int:
        assert self.directory is not None
        return int((self.directory / "data" / "postmaster.pid").read_text().split()[0])

    def freeze(self) -> None:
        """SIGSTOP the postmaster and every backend: connections hang instead of failing."""
        self._signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self._signal(signal.SIGCONT)

    def _signal(self, signum: int) -> None:
        """The postmaster first, then its children; a short-lived one (an autovacuum worker) may
        have exited in between."""
        for pid in self._cluster_pids():
            try:
                os.kill(pid, signum)
            except ProcessLookupError:
                pass

    def _cluster_pids(self) -> list[int]:
        postmaster = self.postmaster_pid()
        children = Path(f"/proc/{postmaster}/task/{postmaster}/children").read_text().split()
        return [postmaster, *map(int, children)]

    def create_database(self, name: str) -> str:
        with psycopg.connect(self.url, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        return self.database_url(name)

    def remove(self) -> None:
        if self.directory is not None:
            self.stop("immediate")
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None
