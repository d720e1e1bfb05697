"""A stand-in for the weather HTTP API the example package wraps (examples/weather_tools): the
live MCP server's tools call it over real HTTP, as they would call the real one."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

CURRENT = {"Oslo": {"city": "Oslo", "temperature_c": -3.5, "conditions": "light snow", "observed_at": "2026-12-07T03:00:00Z"}}


class WeatherApi:
    """Serves GET /current?city=, POST /alerts and DELETE /alerts/ID on 127.0.0.1, in a thread."""

    def __init__(self) -> None:
        self.alerts: dict[int, dict[str, Any]] = {}
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _handler(api: WeatherApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            city = parse_qs(url.query).get("city", [""])[0]
            if url.path == "/current" and city in CURRENT:
                self._answer(200, CURRENT[city])
            else:
                self._answer(404, {"error": f"No weather station reports for {city!r}."})

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            alert = {"id": len(api.alerts) + 1, "city": body["city"], "below_c": body["below_c"], "phone": body["phone"]}
            api.alerts[alert["id"]] = alert
            self._answer(201, alert)

        def do_DELETE(self) -> None:
            alert_id = int(self.path.rsplit("/", 1)[-1])
            if api.alerts.pop(alert_id, None) is None:
                self._answer(404, {"error": f"There is no alert {alert_id}."})
            else:
                self._answer(204, None)

        def _answer(self, status: int, body: Any) -> None:
            payload = b"" if body is None else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
