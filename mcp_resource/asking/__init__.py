"""Asking the client mid-call: the elicitation, sampling and roots requests a tool makes, in either era.

A tool asks through its `ToolCall` (`call.elicit`, `call.sample`, `call.ask`: tools/base.py); the
call's `Asker` carries the requests to the client and brings back its answers:

- 2025-06-18 and 2025-11-25 (`stream.py`): each request goes out on the call's SSE stream, and the
  tool waits for the client's response, which the client POSTs to /mcp and any worker or instance
  may receive: it reaches the waiting tool through the event log and its wake-ups (Redis).
- 2026-07-28 (`rounds.py`): multi-round-trip requests. The call answers `input_required` with the
  requests and a sealed `requestState` (`request_state.py`); the client's retry runs the tool again
  from its start with the answers. So a tool asks the same questions in the same order on every run,
  and does nothing it cannot repeat before its last question.

Only what the client declared is asked (elicitation, sampling, roots); an undeclared capability is
refused in the way of the era: -32021 in 2026-07-28, an `isError` result before.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from mcp_resource.errors import ToolError

#: The client requests a tool may make, and the client capability each needs.
CAPABILITY_OF = {"elicitation/create": "elicitation", "sampling/createMessage": "sampling", "roots/list": "roots"}


def askable(client_capabilities: Any) -> dict[str, Any]:
    """What a session keeps of the capabilities a client declared: those a tool may ask with."""
    if not isinstance(client_capabilities, dict):
        return {}
    return {name: client_capabilities[name] for name in CAPABILITY_OF.values() if name in client_capabilities}


class NoAnswer(ToolError):
    """The client did not answer in time; the call ends with this text as an `isError` result."""


class Asker(ABC):
    """One call's way to the client; `ask` returns each request's result by its key."""

    def __init__(self, client_capabilities: dict[str, Any]) -> None:
        self.client_capabilities = client_capabilities
        self._keys = 0

    def declared(self, method: str) -> bool:
        """Whether the client declared the capability `method` needs."""
        return CAPABILITY_OF.get(method) in self.client_capabilities

    def next_key(self, method: str) -> str:
        """A key for a request the tool did not name: the same on every run of the same call."""
        self._keys += 1
        return f"{CAPABILITY_OF[method]}-{self._keys}"

    def ask(self, requests: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """Each request (`{"method": ..., "params": ...}`) answered: the client's result by key."""
        unknown = [r.get("method") for r in requests.values() if r.get("method") not in CAPABILITY_OF]
        if unknown:
            raise ValueError(f"a tool may ask only {', '.join(CAPABILITY_OF)}, not {unknown}")
        missing = sorted({CAPABILITY_OF[r["method"]] for r in requests.values() if not self.declared(r["method"])})
        if missing:
            self.undeclared(missing)
        return self.answers(requests)

    @abstractmethod
    def undeclared(self, capabilities: list[str]) -> None:
        """Refuse a request for capabilities the client did not declare (raises)."""

    @abstractmethod
    def answers(self, requests: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]: ...


class Unreachable(Asker):
    """A call whose client cannot be asked: its answer is plain JSON, or its transport has no way."""

    def undeclared(self, capabilities: list[str]) -> None:
        self.answers({})

    def answers(self, requests: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        # In the 2025 eras a question needs the call's SSE stream: the client must accept one, and
        # the tool must stream (`streams = True`, docs/integrate.md).
        raise ToolError("This tool needs to ask the client something, which works only on a response stream (Accept: text/event-stream).")


def missing_capability_text(capabilities: list[str]) -> str:
    return f"This tool needs to ask the client, which did not declare the capability: {', '.join(capabilities)}."
