"""What the asking mechanism decides without a server: which capabilities a session keeps, and
which requests a tool may make."""

from __future__ import annotations

import pytest

from mcp_resource.asking import Unreachable, askable
from mcp_resource.errors import ToolError


def test_a_session_keeps_only_the_capabilities_a_tool_may_ask_with():
    declared = {"sampling": {"tools": {}}, "roots": {"listChanged": True}, "experimental": {"x": "y" * 1000}}

    assert askable(declared) == {"sampling": {"tools": {}}, "roots": {"listChanged": True}}
    assert askable(None) == askable(["sampling"]) == {}


def test_a_tool_may_ask_only_for_elicitation_sampling_or_roots():
    with pytest.raises(ValueError, match="ping"):
        Unreachable({"sampling": {}}).ask({"x": {"method": "ping", "params": {}}})


def test_a_call_without_a_stream_says_how_to_be_asked():
    with pytest.raises(ToolError, match="text/event-stream"):
        Unreachable({"sampling": {}}).ask({"x": {"method": "sampling/createMessage", "params": {}}})
