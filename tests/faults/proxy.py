"""A real nginx as a round-robin proxy in front of several resource-server instances, configured for
SSE as deploy/proxy.conf is; each answer names the instance that served it in `X-Upstream`."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tests import services
from tests.faults.servers import MissingServer

START_TIMEOUT_SECONDS = 10
UPSTREAM_HEADER = "X-Upstream"

CONFIG = """
daemon off;
worker_processes 1;
pid {directory}/nginx.pid;
error_log {directory}/error.log warn;
{user}
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {directory}/body;
    proxy_temp_path {directory}/proxy;
    fastcgi_temp_path {directory}/fastcgi;
    uwsgi_temp_path {directory}/uwsgi;
    scgi_temp_path {directory}/scgi;
    upstream mcp_resource {{ {servers} keepalive 16; }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://mcp_resource;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_buffering off;
            proxy_cache off;
            proxy_read_timeout 1h;
            proxy_send_timeout 1h;
            add_header {header} $upstream_addr always;
        }}
    }}
}}
"""


def find_nginx() -> str:
    """Debian's nginx (tests/services.py), or the fault tests' own refusal saying what to install."""
    try:
        return services.find_nginx()
    except services.ServiceUnavailable as missing:
        raise MissingServer(f"{missing} It runs the proxy fault tests.") from None


@dataclass
class RoundRobinProxy:
    url: str
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)  # fast shutdown: open streams are cut
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start(port: int, upstream_urls: list[str], directory: Path) -> RoundRobinProxy:
    """nginx on 127.0.0.1:`port`, passing requests to `upstream_urls` in turn."""
    nginx = find_nginx()
    directory.mkdir(parents=True, exist_ok=True)
    servers = " ".join(f"server {url.split('://', 1)[1]};" for url in upstream_urls)
    # As root, nginx's workers would otherwise run as nobody, who cannot write in our directory.
    user = "user root;" if os.geteuid() == 0 else ""
    config = directory / "nginx.conf"
    config.write_text(CONFIG.format(directory=directory, user=user, servers=servers, port=port, header=UPSTREAM_HEADER))
    log = (directory / "nginx.out").open("wb")
    process = subprocess.Popen([nginx, "-c", str(config), "-p", str(directory), "-e", str(directory / "error.log")], stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"nginx exited at start; see {directory / 'error.log'} and {directory / 'nginx.out'}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return RoundRobinProxy(url=f"http://127.0.0.1:{port}", process=process)
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"nginx did not listen on {port} in {START_TIMEOUT_SECONDS}s; see {directory / 'error.log'}")
