"""The observability kit of deploy/ as Prometheus reads it: promtool checks the alert rules, runs
their tests (deploy/prometheus/alerts_test.yml) and checks docker-compose's Prometheus
configuration; every series the rules and the Grafana dashboard ask for is one the services export."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.services import ServiceUnavailable, find_promtool

REPO = Path(__file__).resolve().parents[2]
PROMETHEUS = REPO / "deploy" / "prometheus"
DASHBOARD = REPO / "deploy" / "grafana" / "dashboards" / "drawbridge.json"
# Series named in PromQL: drawbridge_* and Prometheus' own `up`.
SERIES = re.compile(r"\b(drawbridge_[a-z_]+|up)\b")
# What the code defines: prometheus-client metrics (counters get _total; histograms _bucket, _sum,
# _count) and the gauges read when scraped.
DEFINED = re.compile(r'(Counter|Histogram|Gauge)\(\s*"(drawbridge_[a-z_]+)"|add_scrape_gauge\(\s*(?:app,\s*)?"(drawbridge_[a-z_]+)"')
SUFFIXES = {"Counter": ("_total",), "Histogram": ("_bucket", "_sum", "_count"), "Gauge": ("",), None: ("",)}


@pytest.fixture(scope="module")
def promtool(tmp_path_factory: pytest.TempPathFactory) -> str:
    try:
        return find_promtool(tmp_path_factory.getbasetemp().parent / "promtool")
    except ServiceUnavailable as error:
        pytest.exit(str(error), returncode=3)


def run(promtool: str, *args: str, cwd: Path = PROMETHEUS) -> subprocess.CompletedProcess[str]:
    return subprocess.run([promtool, *args], cwd=cwd, capture_output=True, text=True, timeout=60)


def test_the_alert_rules_pass_promtool_check_rules(promtool):
    result = run(promtool, "check", "rules", "alerts.yml")

    assert result.returncode == 0, result.stdout + result.stderr


def test_each_alert_fires_when_it_should_and_not_before(promtool):
    result = run(promtool, "test", "rules", "alerts_test.yml")

    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_has_a_test_and_a_runbook_section():
    alerts = {rule["alert"] for group in yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())["groups"] for rule in group["rules"]}
    tested = {case["alertname"] for test in yaml.safe_load((PROMETHEUS / "alerts_test.yml").read_text())["tests"] for case in test["alert_rule_test"]}
    runbook = (REPO / "docs" / "operate.md").read_text()

    assert alerts == tested
    assert [alert for alert in sorted(alerts) if f"### {alert}" not in runbook] == []


def test_compose_s_prometheus_configuration_passes_promtool_check_config(promtool, tmp_path):
    """With the files compose mounts (the rules, the certificate, the metrics-token secret) where
    this test put them."""
    (tmp_path / "metrics_token").write_text("a-token\n")
    (tmp_path / "cert.pem").write_text("not read by the check\n")
    (tmp_path / "alerts.yml").write_text((PROMETHEUS / "alerts.yml").read_text())
    config = (PROMETHEUS / "prometheus.yml").read_text()
    for mounted, here in (
        ("/etc/prometheus/alerts.yml", tmp_path / "alerts.yml"),
        ("/run/secrets/metrics_token", tmp_path / "metrics_token"),
        ("/etc/prometheus-tls/cert.pem", tmp_path / "cert.pem"),
    ):
        assert mounted in config
        config = config.replace(mounted, str(here))
    (tmp_path / "prometheus.yml").write_text(config)

    result = run(promtool, "check", "config", "prometheus.yml", cwd=tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr


def exported_series() -> set[str]:
    names = {"up"}
    for path in [*(REPO / "shared").glob("*.py"), *(REPO / "mcp_resource").glob("*.py")]:
        for kind, name, gauge in DEFINED.findall(path.read_text()):
            names.update((name or gauge) + suffix for suffix in SUFFIXES[kind or None])
    return names


def test_the_rules_and_the_dashboard_ask_only_for_series_the_services_export():
    rules = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())
    expressions = [rule["expr"] for group in rules["groups"] for rule in group["rules"]]
    expressions += [target["expr"] for panel in json.loads(DASHBOARD.read_text())["panels"] for target in panel["targets"]]
    asked = {name for expression in expressions for name in SERIES.findall(expression)}

    assert asked - exported_series() == set()
    assert {"drawbridge_token_requests_total", "drawbridge_logins_total", "drawbridge_job_queue_oldest_seconds"} <= asked
