"""The deployment kit supervises every service (#19 item 8): docker-compose.yml restarts and
health-checks each one, deploy/systemd/ has a unit for each, and both leave gunicorn's graceful
stop its time before they kill. Docker is not on every machine: the compose file is checked as YAML."""

from __future__ import annotations

import configparser
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
# Services that run to completion (set-up steps); the others wait for their success.
ONE_SHOT = {name for service in SERVICES.values() for name, cond in service.get("depends_on", {}).items() if cond == {"condition": "service_completed_successfully"}}
LONG_RUNNING = sorted(set(SERVICES) - ONE_SHOT)
GUNICORN = {"authserver": "deploy/gunicorn_authserver.py", "mcp_resource": "deploy/gunicorn_mcp.py"}
UNITS = {"drawbridge-authserver.service": "authserver", "drawbridge-mcp.service": "mcp_resource", "drawbridge-worker.service": "worker"}


def _graceful_timeout(config: str) -> int:
    return runpy.run_path(str(REPO / config))["graceful_timeout"]


def _seconds(duration: str) -> int:
    assert duration.endswith("s"), duration
    return int(duration[:-1])


def _unit(name: str) -> configparser.ConfigParser:
    unit = configparser.ConfigParser(interpolation=None, strict=False)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read(REPO / "deploy" / "systemd" / name)
    return unit


def test_the_compose_file_has_both_kinds_of_service():
    assert ONE_SHOT == {"migrate", "db-grants"}
    assert {"postgres", "redis", "authserver", "mcp_resource", "worker", "proxy"} <= set(LONG_RUNNING)


@pytest.mark.parametrize("name", LONG_RUNNING)
def test_a_long_running_service_restarts_whenever_it_exits_and_has_a_health_check(name):
    service = SERVICES[name]
    assert service.get("restart") in ("always", "unless-stopped")
    check = service.get("healthcheck", {})
    assert check.get("test") and check.get("interval") and check.get("retries"), check


@pytest.mark.parametrize("name", sorted(ONE_SHOT))
def test_a_set_up_step_is_retried_when_it_fails(name):
    assert str(SERVICES[name].get("restart", "")).startswith("on-failure")


def test_the_job_worker_is_checked_by_its_own_command():
    assert SERVICES["worker"]["healthcheck"]["test"] == ["CMD", "drawbridge", "worker", "--check"]


@pytest.mark.parametrize(("name", "config"), GUNICORN.items())
def test_docker_waits_longer_than_gunicorn_s_graceful_stop(name, config):
    assert _seconds(SERVICES[name]["stop_grace_period"]) > _graceful_timeout(config)


@pytest.mark.parametrize(("unit_name", "service"), UNITS.items())
def test_each_service_has_a_systemd_unit_restarted_on_failure(unit_name, service):
    unit = _unit(unit_name)["Service"]
    assert unit["Restart"] == "on-failure"
    assert unit["KillSignal"] == "SIGTERM" and unit["KillMode"] == "mixed"  # SIGTERM to the main process only
    if service in GUNICORN:
        assert int(unit["TimeoutStopSec"]) > _graceful_timeout(GUNICORN[service])
        assert GUNICORN[service] in unit["ExecStart"]


def test_the_systemd_units_pass_systemd_analyze_verify(tmp_path):
    """Verified with this checkout's paths (verify checks that ExecStart's program exists), and
    with no warning at all: systemd ignores an unknown key or a bad value with a warning only."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed here (apt-get install systemd)")
    for name in UNITS:
        text = (REPO / "deploy" / "systemd" / name).read_text()
        text = text.replace("/opt/drawbridge/.venv/bin/", f"{Path(sys.executable).parent}/").replace("/opt/drawbridge", str(REPO))
        text = "\n".join("EnvironmentFile=/dev/null" if line.startswith("EnvironmentFile=") else line for line in text.splitlines())
        (tmp_path / name).write_text(text + "\n")
    result = subprocess.run([analyze, "verify", *sorted(str(p) for p in tmp_path.iterdir())], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr


def test_both_services_get_the_metrics_token_and_prometheus_gets_it_as_a_secret():
    """Issue #24: the shipped stack answered /metrics with 404, having no metrics token."""
    for name in ("authserver", "mcp_resource"):
        assert SERVICES[name]["environment"]["DRAWBRIDGE_METRICS_TOKEN"].startswith("${DRAWBRIDGE_METRICS_TOKEN:?")
    assert COMPOSE["secrets"]["metrics_token"] == {"environment": "DRAWBRIDGE_METRICS_TOKEN"}
    assert SERVICES["prometheus"]["secrets"] == ["metrics_token"]
    assert SERVICES["prometheus"]["profiles"] == SERVICES["grafana"]["profiles"] == ["observability"]


def test_every_file_compose_mounts_from_the_checkout_is_there():
    """Except deploy/tls/, which `make tls` (or the operator's real certificate) fills."""
    sources = [volume.split(":", 1)[0] for service in SERVICES.values() for volume in service.get("volumes", []) if volume.startswith("./")]
    assert "./deploy/proxy.conf" in sources and "./deploy/nginx.conf" in sources
    assert [source for source in sources if not source.startswith("./deploy/tls") and not (REPO / source).exists()] == []


def test_make_tls_makes_a_certificate_for_localhost(tmp_path):
    """What the proxy mounts: cert.pem for localhost and 127.0.0.1, and a key only its owner reads."""
    subprocess.run(["make", "--no-print-directory", "tls", f"TLS_DIR={tmp_path}"], cwd=REPO, check=True, capture_output=True)
    text = subprocess.run(["openssl", "x509", "-in", str(tmp_path / "cert.pem"), "-noout", "-ext", "subjectAltName"], check=True, capture_output=True, text=True).stdout

    assert "DNS:localhost" in text and "IP Address:127.0.0.1" in text
    assert (tmp_path / "key.pem").stat().st_mode & 0o077 == 0
