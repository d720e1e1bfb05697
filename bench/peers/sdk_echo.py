"""Peer: the official MCP Python SDK (mcp 2.3.0) as a stateless, JSON-answering Streamable HTTP
server with one `echo` tool and no authentication, under uvicorn with one worker.

    .venv-sdk-peer/bin/python bench/peers/sdk_echo.py --port 9000     # MCP at /mcp

Run from the peers' virtualenv (bench/peers/__init__.py makes it), never from the project's.
"""

from __future__ import annotations

import argparse

import uvicorn
from mcp.server.mcpserver import MCPServer

server = MCPServer("sdk-echo")


@server.tool()
def echo(text: str) -> str:
    """Return the text it was given."""
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app = server.streamable_http_app(json_response=True, stateless_http=True)
    uvicorn.run(app, host="127.0.0.1", port=args.port, workers=1, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
