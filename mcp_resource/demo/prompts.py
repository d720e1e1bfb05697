"""The demo's prompts: summarize a post, draft one, check the stock. Each class is a
`drawbridge.prompts` entry point in pyproject.toml, under the scope its tools use."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, validate

from mcp_resource.auth import Principal
from mcp_resource.demo import resources
from mcp_resource.demo.models import Post
from mcp_resource.errors import InvalidParams, NoSuchResource
from mcp_resource.prompts.base import Message, Prompt, embedded, text
from mcp_resource.resources.base import json_text
from mcp_resource.tools import fields as json_fields

TONES = ("friendly", "formal", "playful", "technical")
LOW_STOCK = 10


class SummarizePostArguments(Schema):
    post_id = json_fields.String(required=True, metadata={"description": "The post's id, from drawbridge://posts."})


class SummarizePost(Prompt):
    name = "summarize_post"
    title = "Summarize a blog post"
    description = "Ask for a three-sentence summary of one blog post, with the post attached."
    scope = "posts:read"
    Arguments = SummarizePostArguments

    def render(self, principal: Principal, args: dict[str, Any]) -> list[Message]:
        try:
            post = resources.post(args["post_id"])
        except NoSuchResource as missing:
            raise InvalidParams(f"Invalid arguments for the prompt {self.name}: post_id: {missing}") from None
        uri = f"{resources.POSTS_URI}/{post.id}"
        return [
            embedded(json_text(uri, post.detail())),
            text("Summarize the blog post above in three sentences for a reader who has not seen it."),
        ]

    def complete(self, argument: str, value: str, context: dict[str, str]) -> list[str]:
        return resources.ids_starting_with(Post, value)


class DraftPostArguments(Schema):
    topic = json_fields.String(required=True, validate=validate.Length(min=1, max=200), metadata={"description": "What the post is about."})
    tone = json_fields.String(
        validate=validate.OneOf(TONES), metadata={"description": f"How it sounds: {', '.join(TONES)} (friendly if not given)."}
    )


class DraftPost(Prompt):
    name = "draft_post"
    title = "Draft a blog post"
    description = "Ask for a blog post draft on a topic, saved with the create_post tool."
    scope = "posts:write"
    Arguments = DraftPostArguments

    def render(self, principal: Principal, args: dict[str, Any]) -> list[Message]:
        tone = args.get("tone", "friendly")
        return [
            text(
                f"Write a short blog post about {args['topic']} in a {tone} tone: a title of at most ten words "
                "and three paragraphs. Save it as a draft with the create_post tool and tell me its id."
            )
        ]

    def complete(self, argument: str, value: str, context: dict[str, str]) -> list[str]:
        return [tone for tone in TONES if tone.startswith(value)] if argument == "tone" else []


class RestockCheck(Prompt):
    name = "restock_check"
    title = "Check what to restock"
    description = "Ask which products to restock, with the current catalogue attached."
    scope = "products:read"

    def render(self, principal: Principal, args: dict[str, Any]) -> list[Message]:
        catalogue = resources.Products().read(principal, resources.PRODUCTS_URI, {})
        return [
            embedded(catalogue[0]),
            text(
                f"From the catalogue above, list the products with fewer than {LOW_STOCK} in stock, fewest first, "
                "and suggest how many of each to order for a month of sales."
            ),
        ]
