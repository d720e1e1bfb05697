"""The conformance suite's authorization-server scenarios against the live authorization server.

The authorization-code scenario prints the URL a person would open and waits for the callback;
the test plays that person (login and consent over HTTP) and lets the browser land on the callback.
"""

from __future__ import annotations

import re
import subprocess

import httpx
import pytest

from tests import live
from tests.browser_forms import FormBrowser
from tests.conformance import suite
from tests.factories import PASSWORD, make_user, register

pytestmark = pytest.mark.usefixtures("live_services")


def test_metadata_endpoint_scenario(settings, conformance_suite, tmp_path):
    checks, output = suite.run("0.2", "authorization", tmp_path, "--url", settings.issuer, "--scenario", "authorization-server-metadata-endpoint")

    assert checks, output[-3000:]
    assert not [c for c in checks if c.status == "FAILURE"], suite.describe_failures(checks)


def test_authorization_code_grant_scenario(settings, auth_context, conformance_suite, tmp_path):
    port = live.free_port()
    client = register(settings.issuer, redirect_uris=[f"http://127.0.0.1:{port}/callback"])
    person = make_user()
    process = suite.start(
        "0.2", "authorization", tmp_path,
        # Both scenarios in one run: the code grant builds on the metadata the first one fetched.
        "--url", settings.issuer,
        "--client-id", client["client_id"], "--port", str(port), "--resource", settings.resource_url,
    )
    try:
        authorization_url = _wait_for_url(process)
        landed = FormBrowser(person.email, PASSWORD).consent(authorization_url)
        httpx.get(landed, timeout=10)  # the browser arrives at the suite's callback
        process.wait(timeout=60)
    finally:
        process.kill()

    checks = {c.id: c for c in suite.collect(tmp_path)}
    assert checks["authorization-code-grant"].status == "SUCCESS", suite.describe_failures(list(checks.values()))
    assert not [c for c in checks.values() if c.status == "FAILURE"], suite.describe_failures(list(checks.values()))


def _wait_for_url(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    seen = []
    for line in process.stdout:
        seen.append(line)
        if match := re.search(r"https?://\S+/authorize\?\S+", line):
            return match.group(0)
    raise AssertionError("the suite never printed an authorization URL:\n" + "".join(seen)[-3000:])
