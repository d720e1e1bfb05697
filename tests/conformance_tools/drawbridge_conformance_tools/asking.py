"""Fixture tools that ask the client mid-call, as the conformance suite's scenarios name them: on the
call's stream in 2025-06-18 and 2025-11-25 (tools-call-sampling, tools-call-elicitation,
elicitation-sep1034-defaults, elicitation-sep1330-enums), and as multi-round-trip requests in
2026-07-28 (input-required-result-*). Each asks through `ToolCall.elicit`, `sample` or `ask`."""

from __future__ import annotations

import json
from typing import Any

from marshmallow import Schema

from drawbridge_conformance_tools.scopes import SCOPE
from mcp_resource.tools import fields
from mcp_resource.tools.base import Tool, ToolCall, ToolResult


class NoArguments(Schema):
    pass


class PromptInput(Schema):
    prompt = fields.String(required=True)


class MessageInput(Schema):
    message = fields.String(required=True)


def _text(result: dict[str, Any]) -> str:
    """The text of a CreateMessageResult (its content is one block, or a list of them)."""
    content = result.get("content")
    blocks = content if isinstance(content, list) else [content]
    return " ".join(str(b.get("text", "")) for b in blocks if isinstance(b, dict))


def _user_message(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": {"type": "text", "text": text}}]


def _answered(result: dict[str, Any]) -> str:
    return f"action={result.get('action')}, content={json.dumps(result.get('content'))}"


class AskingTool(Tool):
    scope = SCOPE
    Input = NoArguments
    streams = True  # 2025 eras: the questions go out on the call's stream


class Sampling(AskingTool):
    name = "test_sampling"
    description = "Ask the client's language model to answer a prompt."
    Input = PromptInput

    def run(self, call: ToolCall, args: dict[str, Any]) -> ToolResult:
        return ToolResult(text=f"LLM response: {_text(call.sample(_user_message(args['prompt']), max_tokens=100))}")


class Elicitation(AskingTool):
    name = "test_elicitation"
    description = "Ask the person for a username and an email address."
    Input = MessageInput
    SCHEMA = {
        "type": "object",
        "properties": {
            "username": {"type": "string", "description": "User's response"},
            "email": {"type": "string", "description": "User's email address"},
        },
        "required": ["username", "email"],
    }

    def run(self, call: ToolCall, args: dict[str, Any]) -> ToolResult:
        return ToolResult(text=f"User response: {_answered(call.elicit(args['message'], self.SCHEMA))}")


class ElicitationDefaults(AskingTool):
    name = "test_elicitation_sep1034_defaults"
    description = "Ask the person for values of every primitive type, each with a default (SEP-1034)."
    SCHEMA = {
        "type": "object",
        "properties": {
            "name": {"type": "string", "default": "John Doe"},
            "age": {"type": "integer", "default": 30},
            "score": {"type": "number", "default": 95.5},
            "status": {"type": "string", "enum": ["active", "inactive", "pending"], "default": "active"},
            "verified": {"type": "boolean", "default": True},
        },
    }

    def run(self, call: ToolCall, args: dict[str, Any]) -> ToolResult:
        return ToolResult(text=f"Elicitation completed: {_answered(call.elicit('Please review the defaults.', self.SCHEMA))}")


class ElicitationEnums(AskingTool):
    name = "test_elicitation_sep1330_enums"
    description = "Ask the person to choose from each kind of enum (SEP-1330)."
    SCHEMA = {
        "type": "object",
        "properties": {
            "untitledSingle": {"type": "string", "enum": ["option1", "option2", "option3"]},
            "titledSingle": {
                "type": "string",
                "oneOf": [{"const": "value1", "title": "First Option"}, {"const": "value2", "title": "Second Option"}, {"const": "value3", "title": "Third Option"}],
            },
            "legacyEnum": {"type": "string", "enum": ["opt1", "opt2", "opt3"], "enumNames": ["Option One", "Option Two", "Option Three"]},
            "untitledMulti": {"type": "array", "items": {"type": "string", "enum": ["option1", "option2", "option3"]}},
            "titledMulti": {
                "type": "array",
                "items": {"anyOf": [{"const": "value1", "title": "First Choice"}, {"const": "value2", "title": "Second Choice"}, {"const": "value3", "title": "Third Choice"}]},
            },
        },
    }

    def run(self, call: ToolCall, args: dict[str, Any]) -> ToolResult:
        return ToolResult(text=f"Elicitation completed: {_answered(call.elicit('Choose your options.', self.SCHEMA))}")


NAME_SCHEMA = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
OK_SCHEMA = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}
ROOTS = {"method": "roots/list", "params": {}}


def _content(result: dict[str, Any], field: str) -> Any:
    content = result.get("content")
    return content.get(field) if isinstance(content, dict) else None


class InputRequiredElicitation(AskingTool):
    name = "test_input_required_result_elicitation"
    description = "Ask the person's name, then greet them."

    def run(self, call: ToolCall, args: dict[str, Any]) -> ToolResult:
        answer = call.elicit("What is your name?", NAME_SCHEMA, key="user_name")
        return ToolResult(text=f"Hello, {_content(answer, 'name')}!")


class InputRequiredSampling(AskingTool):
    name = "test_input_required_result_sampling"
    description = "Ask the client's language model a question, and answer with its reply."

    def run(self, call: ToolCall, args: dict[str, Any]) -> ToolResult:
        answer = call.sample(_user_message("What is the capital of France?"), max_tokens=100, key="capital_question")
        return ToolResult(text=f"The model said: {_text(answer)}")


class InputRequiredListRoots(AskingTool):
    name = "test_input_required_result_list_roots"
    description = "Ask the client for its roots, and list them."

    def run(self, call: ToolCall, args: dict[str, Any]) -> ToolResult:
        roots = call.ask({"client_roots": ROOTS})["client_roots"].get("roots", [])
        return ToolResult(text="Roots: " + ", ".join(str(r.get("uri")) for r in roots if isinstance(r, dict)))


class InputRequiredRequestState(AskingTool):
    name = "test_input_required_result_request_state"
    description = "Ask for a confirmation; the retry's requestState is checked before the tool runs."

    def run(self, call: ToolCall, args: dict[str, Any]) -> ToolResult:
        answer = call.elicit("Please confirm", OK_SCHEMA, key="confirm")
        return ToolResult(text=f"state-ok: confirmed={_content(answer, 'ok')}")


class InputRequiredTamperedState(InputRequiredRequestState):
    name = "test_input_required_result_tampered_state"
    description = "Ask for a confirmation; a tampered requestState is refused."


class InputRequiredMultipleInputs(AskingTool):
    name = "test_input_required_result_multiple_inputs"
    description = "Ask the person, the model and the client's roots at once."

    def run(self, call: ToolCall, args: dict[str, Any]) -> ToolResult:
        answers = call.ask({
            "user_name": {"method": "elicitation/create", "params": {"message": "What is your name?", "requestedSchema": NAME_SCHEMA}},
            "greeting": {"method": "sampling/createMessage", "params": {"messages": _user_message("Generate a greeting"), "maxTokens": 50}},
            "client_roots": ROOTS,
        })
        return ToolResult(text=f"{_text(answers['greeting'])}, {_content(answers['user_name'], 'name')} ({len(answers['client_roots'].get('roots', []))} roots)")


class InputRequiredMultiRound(AskingTool):
    name = "test_input_required_result_multi_round"
    description = "Ask two questions, one round each."

    def run(self, call: ToolCall, args: dict[str, Any]) -> ToolResult:
        name = _content(call.elicit("Step 1: What is your name?", NAME_SCHEMA, key="step1"), "name")
        color_schema = {"type": "object", "properties": {"color": {"type": "string"}}, "required": ["color"]}
        color = _content(call.elicit("Step 2: What is your favorite color?", color_schema, key="step2"), "color")
        return ToolResult(text=f"{name} likes {color}.")


class InputRequiredCapabilities(AskingTool):
    name = "test_input_required_result_capabilities"
    description = "Ask only what the client declared it can answer: elicitation, sampling, or both."

    def run(self, call: ToolCall, args: dict[str, Any]) -> ToolResult:
        requests = {}
        if call.can_ask("elicitation/create"):
            requests["user_name"] = {"method": "elicitation/create", "params": {"message": "What is your name?", "requestedSchema": NAME_SCHEMA}}
        if call.can_ask("sampling/createMessage"):
            requests["greeting"] = {"method": "sampling/createMessage", "params": {"messages": _user_message("Say hello"), "maxTokens": 20}}
        return ToolResult(text=f"Answered: {', '.join(sorted(call.ask(requests)))}")
