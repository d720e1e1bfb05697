"""Blog tools: list, read and draft posts."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate
from sqlalchemy import select

from mcp_resource.demo.models import Post
from mcp_resource.errors import ToolError
from mcp_resource.tools.base import Annotations, Tool, ToolCall, ToolResult
from shared.db import db


class ListPostsInput(Schema):
    status = fields.String(
        load_default="published",
        validate=validate.OneOf(("published", "draft", "all")),
        metadata={"description": "Which posts to list: published, draft or all."},
    )
    limit = fields.Integer(
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
    post_id = fields.Integer(
        required=True, validate=validate.Range(min=1), metadata={"description": "The post's id, from list_posts."}
    )


class GetPost(Tool):
    name = "get_post"
    description = "Read one blog post in full: title, body, author and dates."
    scope = "posts:read"
    annotations = Annotations(read_only=True, idempotent=True)
    Input = GetPostInput

    def run(self, call: ToolCall, args: dict[str, Any]) -> ToolResult:
        post = db.session.get(Post, args["post_id"])
        if post is None:
            raise ToolError(f"No post with id {args['post_id']}; call list_posts to find ids.")
        return ToolResult.json(post.detail())


class CreatePostInput(Schema):
    title = fields.String(
        required=True,
        validate=[validate.Length(max=200), validate.Regexp(r"\s*\S", error="The title must not be blank.")],
    )
    body = fields.String(required=True, validate=validate.Length(min=1, max=20000))


class CreatePost(Tool):
    name = "create_post"
    description = "Write a new blog post as an unpublished draft and return its id."
    scope = "posts:write"
    Input = CreatePostInput

    def run(self, call: ToolCall, args: dict[str, Any]) -> ToolResult:
        post = Post(title=args["title"].strip(), body=args["body"], author=call.principal.subject, status="draft")
        db.session.add(post)
        db.session.commit()
        return ToolResult.json(post.summary())
