"""The MCP Inspector's CLI (`--cli`, pinned in package.json) against the live server with a bearer
token, in both eras (it speaks 2026-07-28 with `--protocol-era modern`): it lists and reads
resources and lists and gets prompts (issue #23)."""

from __future__ import annotations

import json

import pytest

from tests.factories import fetch_token, make_client
from tests.inspector import cli

pytestmark = pytest.mark.usefixtures("live_services")


@pytest.fixture(scope="module", autouse=True)
def installed() -> None:
    cli.ensure_installed()


@pytest.mark.parametrize("era", ["legacy", "modern"])
def test_the_inspector_lists_and_reads_resources_and_gets_prompts(settings, auth_context, tmp_path, era):
    """`--protocol-era legacy` starts a 2025-11-25 session with initialize; `modern` speaks 2026-07-28,
    whose results alone carry the caching hints and the server's identity in `_meta`."""
    token = fetch_token(settings, make_client(scope="posts:read"))

    def call(method: str, *args: str) -> dict:
        return cli.result(cli.run(tmp_path, settings.resource_url, token, era, method, *args))

    resources = call("resources/list")
    read = call("resources/read", "--uri", "drawbridge://posts/1")
    prompts = call("prompts/list")
    prompt = call("prompts/get", "--prompt-name", "summarize_post", "--prompt-args", "post_id=1")

    assert [r["uri"] for r in resources["resources"]] == ["drawbridge://posts"]
    assert json.loads(read["contents"][0]["text"])["id"] == 1
    assert [p["name"] for p in prompts["prompts"]] == ["summarize_post"]  # draft_post needs posts:write
    assert prompt["messages"][0]["content"]["resource"]["uri"] == "drawbridge://posts/1"
    modern = era == "modern"
    assert (read.get("cacheScope"), "io.modelcontextprotocol/serverInfo" in read.get("_meta", {})) == (("private", True) if modern else (None, False))
