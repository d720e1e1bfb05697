"""Fixture prompts of the MCP conformance suite, by the names its scenarios get."""

from __future__ import annotations

import base64
from typing import Any

from marshmallow import Schema

from drawbridge_conformance_tools import PNG_1X1
from drawbridge_conformance_tools.scopes import SCOPE
from mcp_resource.asking import Asker
from mcp_resource.auth import Principal
from mcp_resource.prompts.base import Message, Prompt, embedded, image, text
from mcp_resource.resources.base import text as text_contents
from mcp_resource.tools import fields as json_fields


class SimplePrompt(Prompt):
    name = "test_simple_prompt"
    description = "A fixed prompt without arguments."
    scope = SCOPE

    def render(self, principal: Principal, args: dict[str, Any]) -> list[Message]:
        return [text("This is a simple prompt for testing.")]


class TwoArguments(Schema):
    arg1 = json_fields.String(required=True, metadata={"description": "First test argument"})
    arg2 = json_fields.String(required=True, metadata={"description": "Second test argument"})


class PromptWithArguments(Prompt):
    name = "test_prompt_with_arguments"
    description = "A prompt that repeats its two arguments."
    scope = SCOPE
    Arguments = TwoArguments

    def render(self, principal: Principal, args: dict[str, Any]) -> list[Message]:
        return [text(f"Prompt with arguments: arg1='{args['arg1']}', arg2='{args['arg2']}'")]

    def complete(self, argument: str, value: str, context: dict[str, str]) -> list[str]:
        return [word for word in ("paris", "park", "party", "test", "testing") if word.startswith(value)]


class ResourceUri(Schema):
    resourceUri = json_fields.String(required=True, metadata={"description": "URI of the resource to embed"})


class PromptWithEmbeddedResource(Prompt):
    name = "test_prompt_with_embedded_resource"
    description = "A prompt that embeds a resource under the URI it is given."
    scope = SCOPE
    Arguments = ResourceUri

    def render(self, principal: Principal, args: dict[str, Any]) -> list[Message]:
        return [
            embedded(text_contents(args["resourceUri"], "Embedded resource content for testing.")),
            text("Please process the embedded resource above."),
        ]


class PromptWithImage(Prompt):
    name = "test_prompt_with_image"
    description = "A prompt that shows a small PNG image."
    scope = SCOPE

    def render(self, principal: Principal, args: dict[str, Any]) -> list[Message]:
        return [image(base64.b64decode(PNG_1X1), "image/png"), text("Please analyze the image above.")]


class InputRequiredPrompt(Prompt):
    name = "test_input_required_result_prompt"
    description = "A prompt that asks the person for its context first (2026-07-28 input-required result)."
    scope = SCOPE

    def render_asking(self, principal: Principal, args: dict[str, Any], asker: Asker) -> list[Message]:
        schema = {"type": "object", "properties": {"context": {"type": "string"}}, "required": ["context"]}
        question = {"method": "elicitation/create", "params": {"message": "What context should the prompt use?", "requestedSchema": schema}}
        answer = asker.ask({"user_context": question})["user_context"]
        content = answer.get("content")
        return [text(f"Use this context: {content.get('context') if isinstance(content, dict) else None}")]
