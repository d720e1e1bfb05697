"""Content negotiation on /mcp: each distinct header value is parsed once, with werkzeug's meaning."""

from __future__ import annotations

import pytest
from flask import Flask

from mcp_resource.transport import negotiation


@pytest.mark.parametrize(
    ("accept", "takes_json", "takes_event_stream"),
    [
        ("application/json, text/event-stream", True, True),
        ("application/json", True, False),
        ("text/event-stream", False, True),
        ("*/*", True, True),
        ("application/*;q=0.5", True, False),
        ("text/html", False, False),
        ("", True, False),
    ],
)
def test_accept_means_what_werkzeug_says(accept, takes_json, takes_event_stream):
    app = Flask(__name__)
    for _ in range(2):  # the second answer comes from the cache
        with app.test_request_context(headers={"Accept": accept} if accept else {}):
            assert negotiation.accepts_json() is takes_json
            assert negotiation.accepts_event_stream() is takes_event_stream


@pytest.mark.parametrize(
    "accept", ["application/json;q=0, text/event-stream", "text/event-stream;q=0", "application/jsonx", "*/*;q=0.1, text/html", ""]
)
def test_odd_accept_values_mean_what_they_mean_to_werkzeug(accept):
    with Flask(__name__).test_request_context(headers={"Accept": accept} if accept else {}) as ctx:
        parsed = ctx.request.accept_mimetypes

        assert negotiation.accepts_json() is (not parsed or parsed.accept_json)
        assert negotiation.accepts_event_stream() is (parsed["text/event-stream"] > 0)


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [("application/json", "application/json"), ("Application/JSON; charset=utf-8", "application/json"), ("", ""), ("text/plain", "text/plain")],
)
def test_mimetype_is_lowercased_without_parameters(content_type, expected):
    with Flask(__name__).test_request_context(headers={"Content-Type": content_type} if content_type else {}):
        assert negotiation.mimetype() == expected


def test_odd_header_values_cannot_grow_the_cache_without_bound():
    app = Flask(__name__)
    for n in range(negotiation.HEADER_VALUES_REMEMBERED * 3):
        with app.test_request_context(headers={"Accept": f"application/x-{n}"}):
            negotiation.accepts_json()

    assert negotiation._accepts.cache_info().currsize <= negotiation.HEADER_VALUES_REMEMBERED
