"""The deployment kit as shipped: Debian's nginx with deploy/proxy.conf (only its upstream
addresses, its port and its certificate's paths changed) terminates TLS in front of both live
services, made by `make tls`. Through it the official MCP SDK client discovers, registers,
authorizes and calls a tool; SSE reaches the client event by event; Prometheus' promtool accepts
both services' metrics; and every line the services log is JSON."""

from __future__ import annotations

import asyncio
import json
import os
import re
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests import live
from tests.browser_forms import FormBrowser
from tests.conftest import ARTIFACTS
from tests.e2e.test_oauth_dance import MemoryStorage, jwt_claims, sdk_provider
from tests.factories import PASSWORD, make_client, make_user
from tests.mcp_http import modern_body, modern_headers
from tests.prometheus import METRICS_TOKEN, sample
from tests.services import find_nginx, find_promtool

pytestmark = pytest.mark.usefixtures("live_services")

REPO = live.REPO
PROXY_CONF = REPO / "deploy" / "proxy.conf"
KEEPALIVE_SECONDS = 1  # the live services' DRAWBRIDGE_SSE_KEEPALIVE_SECONDS (tests/conftest.py)
STEP_SECONDS = 0.3
# Around the shipped file: what the main configuration of nginx's own package would hold, with this
# test's directory for everything nginx writes.
MAIN_CONF = """
daemon off;
worker_processes 1;
pid {directory}/nginx.pid;
error_log {directory}/error.log warn;
{user}
events {{ worker_connections 1024; }}
http {{
    access_log {directory}/access.log;
    client_body_temp_path {directory}/body;
    proxy_temp_path {directory}/proxy;
    fastcgi_temp_path {directory}/fastcgi;
    uwsgi_temp_path {directory}/uwsgi;
    scgi_temp_path {directory}/scgi;
    include {directory}/proxy.conf;
}}
"""


@dataclass
class Proxied:
    """Both services behind nginx: their public URLs are the proxy's."""

    url: str
    issuer: str
    resource_url: str
    tls: ssl.SSLContext
    logs: list[Path]
    nginx_conf: Path


def shipped_proxy_conf(auth_port: int, mcp_port: int, proxy_port: int, tls_dir: Path) -> str:
    """deploy/proxy.conf with the compose network's addresses, its port and its certificate's
    directory replaced, each exactly once (the rest of the file is used as it is)."""
    text = PROXY_CONF.read_text()
    for shipped, here in (
        ("server authserver:8000;", f"server 127.0.0.1:{auth_port};"),
        ("server mcp_resource:8001;", f"server 127.0.0.1:{mcp_port};"),
        ("listen 8443 ssl http2;", f"listen 127.0.0.1:{proxy_port} ssl http2;"),
        ("/etc/nginx/tls/cert.pem", str(tls_dir / "cert.pem")),
        ("/etc/nginx/tls/key.pem", str(tls_dir / "key.pem")),
    ):
        assert text.count(shipped) == 1, f"deploy/proxy.conf no longer says {shipped!r} once"
        text = text.replace(shipped, here)
    return text


@pytest.fixture(scope="module")
def tls_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A certificate made by `make tls`, as a user of the compose file makes one."""
    directory = tmp_path_factory.mktemp("tls")
    subprocess.run(["make", "--no-print-directory", "tls", f"TLS_DIR={directory}"], cwd=REPO, check=True, capture_output=True)
    return directory


@pytest.fixture(scope="module")
def proxied(live_services, tls_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxied]:
    nginx = find_nginx()
    auth_port, mcp_port, proxy_port = live.free_port(), live.free_port(), live.free_port()
    url = f"https://127.0.0.1:{proxy_port}"
    env = {
        **live_services.env,
        # As docker-compose.yml runs them: public URLs at the proxy, keys fetched inside the network.
        "DRAWBRIDGE_ISSUER": url,
        "DRAWBRIDGE_RESOURCE_URL": f"{url}/mcp",
        "DRAWBRIDGE_JWKS_URL": f"http://127.0.0.1:{auth_port}/jwks",
        "DRAWBRIDGE_TRUSTED_PROXY_COUNT": "1",
        "DRAWBRIDGE_METRICS_TOKEN": METRICS_TOKEN,
        "DRAWBRIDGE_AUTHSERVER_WORKERS": "2",
        "DRAWBRIDGE_MCP_WORKERS": "2",
        "DRAWBRIDGE_ACCESS_LOG": "on",
    }
    logs = [ARTIFACTS / "proxied-authserver.log", ARTIFACTS / "proxied-mcp_resource.log"]
    auth = live.start("authserver:create_app()", "deploy/gunicorn_authserver.py", auth_port, env, logs[0])
    try:
        mcp = live.start("mcp_resource:create_app()", "deploy/gunicorn_mcp.py", mcp_port, env, logs[1])
    except Exception:
        auth.stop()
        raise
    directory = tmp_path_factory.mktemp("nginx")
    (directory / "proxy.conf").write_text(shipped_proxy_conf(auth_port, mcp_port, proxy_port, tls_dir))
    # As root, nginx's workers would otherwise run as nobody, who cannot write in this directory.
    user = "user root;" if os.geteuid() == 0 else ""
    (directory / "nginx.conf").write_text(MAIN_CONF.format(directory=directory, user=user))
    process = subprocess.Popen(
        [nginx, "-c", str(directory / "nginx.conf"), "-p", str(directory), "-e", str(directory / "error.log")],
        stdout=(directory / "nginx.out").open("wb"), stderr=subprocess.STDOUT,
    )
    tls = ssl.create_default_context(cafile=str(tls_dir / "cert.pem"))
    try:
        _wait_until_served(f"{url}/healthz", tls, process, directory)
        yield Proxied(url=url, issuer=url, resource_url=f"{url}/mcp", tls=tls, logs=logs, nginx_conf=directory / "nginx.conf")
    finally:
        process.terminate()
        process.wait(timeout=10)
        mcp.stop()
        auth.stop()


def _wait_until_served(url: str, tls: ssl.SSLContext, process: subprocess.Popen[bytes], directory: Path) -> None:
    deadline = time.monotonic() + live.START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"nginx exited at start: {(directory / 'error.log').read_text()[-2000:]}")
        try:
            if httpx.get(url, verify=tls, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"nginx did not serve {url} in {live.START_TIMEOUT_SECONDS}s; see {directory / 'error.log'}")


@pytest.fixture
def machine_token(proxied: Proxied, auth_context) -> str:
    """A client_credentials token for the proxied MCP server, from its token endpoint through the proxy."""
    machine = make_client(scope="posts:read conformance:run")
    response = httpx.post(
        f"{proxied.issuer}/token",
        data={"grant_type": "client_credentials", "resource": proxied.resource_url},
        auth=(machine.client.client_id, machine.client_secret or ""),
        verify=proxied.tls,
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def test_nginx_accepts_the_shipped_configuration(proxied: Proxied):
    """`nginx -t` with Debian's nginx (1.22 on Debian 12), which refuses the `http2 on;` of 1.25."""
    directory = proxied.nginx_conf.parent
    command = [find_nginx(), "-t", "-c", str(proxied.nginx_conf), "-p", str(directory), "-e", str(directory / "error.log")]
    result = subprocess.run(command, capture_output=True, text=True, timeout=30)

    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


def test_both_services_name_the_proxy_s_https_urls(proxied: Proxied):
    """Behind the proxy, RFC 8414 and RFC 9728 metadata carry the public https URLs the client
    used (X-Forwarded-* from one trusted proxy), not the services' own addresses."""
    server = httpx.get(f"{proxied.url}/.well-known/oauth-authorization-server", verify=proxied.tls, timeout=10).json()
    resource = httpx.get(f"{proxied.url}/.well-known/oauth-protected-resource/mcp", verify=proxied.tls, timeout=10).json()

    assert server["issuer"] == proxied.issuer
    assert server["token_endpoint"] == f"{proxied.issuer}/token"
    assert resource["resource"] == proxied.resource_url
    assert resource["authorization_servers"] == [proxied.issuer]


def test_the_sdk_client_authorizes_and_calls_a_tool_through_the_proxy(proxied: Proxied, auth_context):
    """The official MCP SDK client, given nothing but the proxy's MCP URL: discovery (RFC 9728,
    RFC 8414), registration (RFC 7591), a person's authorization with PKCE, the code exchange, a
    tool call and a refresh, every request through nginx over TLS."""
    person = make_user()
    storage = MemoryStorage()
    provider = sdk_provider(proxied, FormBrowser(person.email, PASSWORD, verify=proxied.tls), storage)

    async def use_tools() -> tuple[set[str], list[dict]]:
        http = httpx2.AsyncClient(auth=provider, verify=proxied.tls, timeout=httpx2.Timeout(30, read=300))
        async with Client(streamable_http_client(proxied.resource_url, http_client=http)) as client:
            tools = await client.list_tools()
            result = await client.call_tool("list_posts", {"status": "all"})
            return {t.name for t in tools.tools}, json.loads(result.content[0].text)

    names, posts = asyncio.run(use_tools())

    assert "list_posts" in names and posts
    first = storage.tokens
    assert first is not None and first.refresh_token
    claims = jwt_claims(first.access_token)
    assert claims["iss"] == proxied.issuer and claims["aud"] == proxied.resource_url

    provider.context.token_expiry_time = time.time() - 1  # the next call refreshes, through the proxy too
    asyncio.run(use_tools())

    assert storage.tokens is not None and storage.tokens.refresh_token != first.refresh_token


@dataclass
class ProxyClient:
    http: httpx.Client
    version: str


@pytest.fixture(params=["HTTP/1.1", "HTTP/2"])
def client(request: pytest.FixtureRequest, proxied: Proxied) -> Iterator[ProxyClient]:
    """An HTTP client of the proxy in each protocol deploy/proxy.conf serves (`listen ... http2`)."""
    with httpx.Client(http2=request.param == "HTTP/2", verify=proxied.tls, timeout=10) as http:
        yield ProxyClient(http, request.param)


def test_progress_events_arrive_as_they_happen_through_the_proxy(proxied: Proxied, client: ProxyClient, machine_token: str):
    """A tool call's SSE stream, unbuffered by nginx (deploy/proxy.conf's `proxy_buffering off` on
    /mcp): each progress notification reaches the client when the tool reports it, STEP_SECONDS
    apart, rather than all at once when the call ends."""
    steps = 5
    params = {"name": "test_tool_with_progress", "arguments": {"steps": steps, "step_seconds": STEP_SECONDS}, "_meta": {"progressToken": "p"}}
    body = modern_body("tools/call", params)
    arrivals: list[tuple[float, dict]] = []
    with client.http.stream("POST", proxied.resource_url, json=body, headers=modern_headers(body, machine_token)) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        assert stream.http_version == client.version
        for line in stream.iter_lines():
            if line.startswith("data: "):
                arrivals.append((time.monotonic(), json.loads(line[6:])))

    progress = [at for at, message in arrivals if message.get("method") == "notifications/progress"]
    assert len(progress) == steps + 1 and "result" in arrivals[-1][1]
    gaps = [later - earlier for earlier, later in zip(progress, progress[1:], strict=False)]
    assert min(gaps) > STEP_SECONDS / 2, gaps  # each came on its own, none held back to travel with the next


def test_keep_alives_arrive_on_time_through_the_proxy(proxied: Proxied, client: ProxyClient, machine_token: str):
    """A 2024-11-05 GET /sse stream through nginx: the endpoint event at once, then a
    `: keep-alive` every DRAWBRIDGE_SSE_KEEPALIVE_SECONDS, each when it is sent."""
    headers = {"Authorization": f"Bearer {machine_token}", "Accept": "text/event-stream"}
    opened = time.monotonic()
    endpoint_at, keep_alives = None, []
    with client.http.stream("GET", f"{proxied.url}/sse", headers=headers) as stream:
        assert stream.http_version == client.version
        for line in stream.iter_lines():
            if line.startswith("data: ") and endpoint_at is None:
                endpoint_at = time.monotonic() - opened
            elif line == ": keep-alive":
                keep_alives.append(time.monotonic())
                if len(keep_alives) == 4:
                    break

    assert endpoint_at is not None and endpoint_at < 1
    gaps = [later - earlier for earlier, later in zip(keep_alives, keep_alives[1:], strict=False)]
    assert all(KEEPALIVE_SECONDS * 0.5 < gap < KEEPALIVE_SECONDS * 1.5 for gap in gaps), gaps


@pytest.mark.parametrize(("path", "service"), [("/metrics", "authserver"), ("/metrics/mcp", "mcp_resource")])
def test_each_service_s_metrics_are_served_through_the_proxy_to_the_token_only(proxied: Proxied, path: str, service: str):
    without = httpx.get(f"{proxied.url}{path}", verify=proxied.tls, timeout=10)
    wrong = httpx.get(f"{proxied.url}{path}", headers={"Authorization": "Bearer wrong"}, verify=proxied.tls, timeout=10)
    scraped = httpx.get(f"{proxied.url}{path}", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, verify=proxied.tls, timeout=10)

    assert without.status_code == wrong.status_code == 404
    assert scraped.status_code == 200
    assert sample(scraped.text, "drawbridge_backing_service_up", backend="database") == 1.0
    assert sample(scraped.text, "drawbridge_backing_service_up", backend="redis") == 1.0
    if service == "mcp_resource":
        assert re.search(r"^drawbridge_job_queue_oldest_seconds \d", scraped.text, re.M)


def test_promtool_accepts_both_services_metrics(proxied: Proxied, machine_token: str, tmp_path_factory: pytest.TempPathFactory):
    """`promtool check metrics`, Prometheus' own linter, on what each service answers a scrape
    through the proxy, after traffic has made series of every kind (counters by label,
    histograms, gauges, several workers' samples added up)."""
    promtool = find_promtool(tmp_path_factory.getbasetemp().parent / "promtool")
    for path in ("/metrics", "/metrics/mcp"):
        text = httpx.get(f"{proxied.url}{path}", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, verify=proxied.tls, timeout=10).text
        result = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=30)

        assert result.returncode == 0, f"{path}: {result.stdout}{result.stderr}"
    token_requests = httpx.get(f"{proxied.url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, verify=proxied.tls, timeout=10).text
    assert sample(token_requests, "drawbridge_token_requests_total", grant="client_credentials", outcome="issued") >= 1


def test_every_line_the_services_logged_is_json(proxied: Proxied, machine_token: str):
    """gunicorn's own lines (start, workers, access) and the apps' share one format: a JSON object
    with time, level, logger, event and service. The access line of a request carries the id the
    service answered with, and the client's address as the proxy forwarded it."""
    answered = httpx.get(f"{proxied.url}/jwks", verify=proxied.tls, timeout=10)
    request_id = answered.headers["X-Request-Id"]
    time.sleep(0.5)  # the access line is written after the answer

    for log in proxied.logs:
        lines = [json.loads(line) for line in log.read_text().splitlines()]  # a plain-text line fails here
        assert all({"time", "level", "logger", "event", "service"} <= set(line) for line in lines), log
        assert any(line["logger"] == "gunicorn.error" for line in lines)
    access = [line for line in map(json.loads, proxied.logs[0].read_text().splitlines()) if line.get("request_id") == request_id and line["event"] == "request"]
    assert [(line["method"], line["path"], line["status"], line["remote_address"], line["service"]) for line in access] == [
        ("GET", "/jwks", 200, "127.0.0.1", "authserver")
    ]
