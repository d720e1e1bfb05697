"""tools/list with 50 tools: how long the server takes, measured one request at a time.

    .venv-bench/bin/python -m bench.tools_list [--tools 50] [--seconds 8]

The MCP server (one gevent worker, core 0) serves a registry of exactly N generated tools, each with
a few typed arguments, all visible to the bench token; wrk (core 1) sends 2026-07-28 tools/list
requests on one connection, so a request's latency is the server's time plus the loopback: an upper
bound for the server time, beside the server's own CPU time per request. Needs PostgreSQL, Redis
and wrk. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import urllib.request
from typing import Any

from flask import Flask
from marshmallow import Schema, fields

from bench.common import drawbridge, fetch_token, machine, summarize, wrk
from mcp_resource.tools.base import Annotations, Tool, ToolCall, ToolResult
from mcp_resource.tools.registry import ToolRegistry

TOOLS_ENV = "BENCH_TOOLS"


class ReportInput(Schema):
    customer_id = fields.Integer(required=True, metadata={"description": "The customer."})
    since = fields.Date(metadata={"description": "First day, ISO 8601."})
    status = fields.String(metadata={"description": "Only orders in this status."})
    limit = fields.Integer(load_default=20, metadata={"description": "At most this many."})


def generated(index: int) -> Tool:
    class Generated(Tool):
        name = f"report_{index:02d}"
        description = f"Report number {index} over a customer's orders."
        scope = "posts:read"
        annotations = Annotations(read_only=True)
        Input = ReportInput

        def run(self, call: ToolCall, args: dict[str, Any]) -> ToolResult:
            return ToolResult(text="")

    return Generated()


def create_app() -> Flask:
    import mcp_resource
    from mcp_resource.services import services

    app = mcp_resource.create_app()
    services(app).tools = ToolRegistry([generated(i) for i in range(int(os.environ[TOOLS_ENV]))])
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tools", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    os.environ[TOOLS_ENV] = str(args.tools)
    with drawbridge(mcp_app="bench.tools_list:create_app()") as env:
        request_env = {"BENCH_ERA": "modern", "BENCH_METHOD": "tools/list", "BENCH_TOKEN": fetch_token(env)}
        wrk(env["DRAWBRIDGE_RESOURCE_URL"], "mcp_request.lua", 2, 1, request_env)
        mcp_pid = int(env["BENCH_MCP_PID"])
        runs = [wrk(env["DRAWBRIDGE_RESOURCE_URL"], "mcp_request.lua", args.seconds, 1, request_env, mcp_pid) for _ in range(args.rounds)]
        listed = len(list_tools(env["DRAWBRIDGE_RESOURCE_URL"], request_env["BENCH_TOKEN"]))
    print(json.dumps({"machine": machine(), "tools": args.tools, "tools_in_one_answer": listed, "tools/list one at a time": summarize(runs)}, indent=2))


def list_tools(url: str, token: str) -> list[dict[str, Any]]:
    meta = {"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {}}
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"_meta": meta}}).encode()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json", "Accept": "application/json",
               "MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/list"}
    with urllib.request.urlopen(urllib.request.Request(url, data=body, headers=headers), timeout=10) as response:
        return json.load(response)["result"]["tools"]


if __name__ == "__main__":
    main()
