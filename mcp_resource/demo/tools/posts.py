"""Blog tools: list, read, draft, edit and publish posts."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, validate
from sqlalchemy import select

from mcp_resource.demo.models import Post
from mcp_resource.demo.resources import posts_changed
from mcp_resource.errors import ToolError
from mcp_resource.tools import fields as json_fields
from mcp_resource.tools.base import Annotations, Tool, ToolCall, ToolResult
from mcp_resource.tools.lookup import by_id
from shared.db import db, utcnow


class ListPostsInput(Schema):
    status = json_fields.String(
        load_default="published",
        validate=validate.OneOf(("published", "draft", "all")),
        metadata={"description": "Which posts to list: published, draft or all."},
    )
    limit = json_fields.Integer(
        load_default=10, validate=validate.Range(min=1, max=50), metadata={"description": "At most this many posts."}
    )


class ListPosts(Tool):
    name = "list_posts"
    description = "List blog posts, newest first, with their ids, titles and status."
    scope = "posts:read"
    annotations = Annotations(read_only=True, idempotent=True)
    Input = ListPostsInput

    def run(self, call: ToolCall, args: dict[str, Any]) -> ToolResult:
        query = select(Post).order_by(Post.created_at.desc(), Post.id.desc()).limit(args["limit"])
        if args["status"] != "all":
            query = query.where(Post.status == args["status"])
        return ToolResult.json([post.summary() for post in db.session.scalars(query)])


class GetPostInput(Schema):
    post_id = json_fields.Integer(
        required=True, validate=validate.Range(min=1), metadata={"description": "The post's id, from list_posts."}
    )


class GetPost(Tool):
    name = "get_post"
    description = "Read one blog post in full: title, body, author and dates."
    scope = "posts:read"
    annotations = Annotations(read_only=True, idempotent=True)
    Input = GetPostInput

    def run(self, call: ToolCall, args: dict[str, Any]) -> ToolResult:
        return ToolResult.json(_post(args["post_id"]).detail())


TITLE_RULES = [validate.Length(max=200), validate.Regexp(r"\s*\S", error="The title must not be blank.")]
BODY_RULES = validate.Length(min=1, max=20000)


def _post(post_id: int) -> Post:
    return by_id(Post, post_id, "post", "list_posts")


class CreatePostInput(Schema):
    title = json_fields.String(required=True, validate=TITLE_RULES)
    body = json_fields.String(required=True, validate=BODY_RULES)


class CreatePost(Tool):
    name = "create_post"
    description = "Write a new blog post as an unpublished draft and return its id."
    scope = "posts:write"
    Input = CreatePostInput

    def run(self, call: ToolCall, args: dict[str, Any]) -> ToolResult:
        post = Post(title=args["title"].strip(), body=args["body"], author=call.principal.subject, status="draft")
        db.session.add(post)
        db.session.commit()
        posts_changed()
        return ToolResult.json(post.summary())


class UpdatePostInput(Schema):
    post_id = json_fields.Integer(required=True, validate=validate.Range(min=1))
    title = json_fields.String(validate=TITLE_RULES)
    body = json_fields.String(validate=BODY_RULES)


class UpdatePost(Tool):
    name = "update_post"
    description = "Change the title or body of a draft post."
    scope = "posts:write"
    annotations = Annotations(idempotent=True)
    Input = UpdatePostInput

    def run(self, call: ToolCall, args: dict[str, Any]) -> ToolResult:
        post = _post(args["post_id"])
        if post.status != "draft":
            raise ToolError(f"Post {post.id} is published and can no longer be edited; create a new post instead.")
        if "title" not in args and "body" not in args:
            raise ToolError("Nothing to change: send a new title, a new body, or both.")
        post.title = args.get("title", post.title).strip()
        post.body = args.get("body", post.body)
        db.session.commit()
        posts_changed(post.id)
        return ToolResult.json(post.detail())


class PublishPost(Tool):
    name = "publish_post"
    description = "Publish a draft post so readers can see it."
    scope = "posts:write"
    annotations = Annotations(idempotent=True)
    Input = GetPostInput

    def run(self, call: ToolCall, args: dict[str, Any]) -> ToolResult:
        post = _post(args["post_id"])
        if post.status == "published":
            raise ToolError(f"Post {post.id} is already published; nothing to do.")
        post.status = "published"
        post.published_at = utcnow()
        db.session.commit()
        posts_changed(post.id)
        return ToolResult.json(post.detail())
