"""Asking the client in 2026-07-28: multi-round-trip requests (basic/patterns/mrtr.mdx).

A question without an answer yet ends the run with `input_required`: the requests still open and a
sealed `requestState` holding the answers the run used so far (request_state.py). The client's retry
carries the new answers in `inputResponses` and that state, and the tool runs again from its start,
each question now answered. A retry that lacks an answer is asked again ("the server SHOULD respond
with a new InputRequiredResult requesting the missing information"); keys nobody asked for are
ignored ("SHOULD ignore any information it does not recognize").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mcp_resource.asking import Asker, missing_capability_text
from mcp_resource.asking.request_state import Binding, RequestStates
from mcp_resource.errors import InputRequired, InvalidParams, MissingRequiredClientCapability


class RoundsAsker(Asker):
    def __init__(self, client_capabilities: dict[str, Any], known: dict[str, Any], binding: Callable[[], Binding], states: RequestStates) -> None:
        super().__init__(client_capabilities)
        self.known, self.binding, self.states = known, binding, states
        self.used: dict[str, Any] = {}  # the answers this run has read, carried into the next state

    def undeclared(self, capabilities: list[str]) -> None:
        # basic/index.mdx: a request that needs a capability the client did not declare gets
        # MissingRequiredClientCapabilityError (-32021); mrtr.mdx: "Servers MUST NOT send an
        # inputRequests that the client has not declared support for in its capabilities."
        raise MissingRequiredClientCapability(missing_capability_text(capabilities), data={"requiredCapabilities": {c: {} for c in capabilities}})

    def answers(self, requests: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        self.used.update({key: self.known[key] for key in requests if key in self.known})
        open_requests = {key: request for key, request in requests.items() if key not in self.known}
        if open_requests:
            raise InputRequired(open_requests, self.states.seal(self.binding(), self.used))
        return {key: self.known[key] for key in requests}


def asker_for(
    client_capabilities: dict[str, Any], states: RequestStates, binding: Callable[[], Binding], input_responses: Any, request_state: Any
) -> RoundsAsker:
    """The asker of one request: the answers of earlier rounds from its state (checked and spent
    here, before the tool runs), then those it brings now. `binding` is worked out only when a
    state is opened or sealed."""
    if not (isinstance(input_responses, dict) and all(isinstance(v, dict) for v in input_responses.values())):
        raise InvalidParams('Invalid params: "inputResponses" must be an object of results, keyed as the inputRequests were.', http_status=400)
    known = states.open(request_state, binding()) if request_state is not None else {}
    return RoundsAsker(client_capabilities, {**known, **input_responses}, binding, states)
