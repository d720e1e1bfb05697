"""The demo's posts and products as resources: each list, and each row by its id. Each class is a
`drawbridge.resources` entry point in pyproject.toml, under the scope its tools use."""

from __future__ import annotations

import re

from sqlalchemy import String, cast, select

from mcp_resource import resources
from mcp_resource.auth import Principal
from mcp_resource.demo.models import Post, Product
from mcp_resource.errors import NoSuchResource
from mcp_resource.resources.base import Contents, Resource, json_text
from shared.db import Model, db

LIST_LIMIT = 100
POSTS_URI = "drawbridge://posts"
PRODUCTS_URI = "drawbridge://products"
# A row id as a URI carries it: a positive whole number within a signed 64-bit column.
_ROW_ID = re.compile(r"^[1-9][0-9]{0,17}$")


def posts_changed(*post_ids: int) -> None:
    """The posts list and these posts changed: their subscribers hear so."""
    resources.changed(POSTS_URI, *(f"{POSTS_URI}/{ident}" for ident in post_ids))


def products_changed(*product_ids: int) -> None:
    """The catalogue and these products changed (their stock): their subscribers hear so."""
    resources.changed(PRODUCTS_URI, *(f"{PRODUCTS_URI}/{ident}" for ident in product_ids))


def row_id(value: str, noun: str, list_uri: str) -> int:
    if not _ROW_ID.match(value):
        raise NoSuchResource(f"{noun} ids are positive whole numbers; read {list_uri} for them.")
    return int(value)


def ids_starting_with(model: type[Model], value: str) -> list[str]:
    """Ids whose digits start with `value`, smallest first (completion of an `{id}`)."""
    if value and not value.isdigit():
        return []
    column = model.id  # type: ignore[attr-defined]
    query = select(column).where(cast(column, String).like(f"{value}%")).order_by(column).limit(LIST_LIMIT + 1)
    return [str(ident) for ident in db.session.scalars(query)]


class Posts(Resource):
    name = "posts"
    title = "Blog posts"
    description = "Every blog post, newest first, drafts included: id, title, status and publication date."
    scope = "posts:read"
    uri = POSTS_URI
    mime_type = "application/json"

    def read(self, principal: Principal, uri: str, values: dict[str, str]) -> list[Contents]:
        query = select(Post).order_by(Post.created_at.desc(), Post.id.desc()).limit(LIST_LIMIT)
        return [json_text(uri, [post.summary() for post in db.session.scalars(query)])]


class PostById(Resource):
    name = "post"
    title = "Blog post"
    description = "One blog post in full: title, body, author, status and dates."
    scope = "posts:read"
    uri_template = "drawbridge://posts/{id}"
    mime_type = "application/json"

    def read(self, principal: Principal, uri: str, values: dict[str, str]) -> list[Contents]:
        return [json_text(uri, post(values["id"]).detail())]

    def complete(self, variable: str, value: str, context: dict[str, str]) -> list[str]:
        return ids_starting_with(Post, value)


def post(value: str) -> Post:
    """The post a URI's or a prompt's `id` names, or NoSuchResource saying how to find one."""
    found = db.session.get(Post, row_id(value, "Post", POSTS_URI))
    if found is None:
        raise NoSuchResource(f"No post with id {value}; read {POSTS_URI} for the ids.")
    return found


class Products(Resource):
    name = "products"
    title = "Product catalogue"
    description = "Every product for sale by name: id, SKU, price in cents and stock."
    scope = "products:read"
    uri = PRODUCTS_URI
    mime_type = "application/json"

    def read(self, principal: Principal, uri: str, values: dict[str, str]) -> list[Contents]:
        query = select(Product).order_by(Product.name).limit(LIST_LIMIT)
        return [json_text(uri, [product.summary() for product in db.session.scalars(query)])]


class ProductById(Resource):
    name = "product"
    title = "Product"
    description = "One product: SKU, name, price in cents and stock."
    scope = "products:read"
    uri_template = "drawbridge://products/{id}"
    mime_type = "application/json"

    def read(self, principal: Principal, uri: str, values: dict[str, str]) -> list[Contents]:
        found = db.session.get(Product, row_id(values["id"], "Product", PRODUCTS_URI))
        if found is None:
            raise NoSuchResource(f"No product with id {values['id']}; read {PRODUCTS_URI} for the ids.")
        return [json_text(uri, found.summary())]

    def complete(self, variable: str, value: str, context: dict[str, str]) -> list[str]:
        return ids_starting_with(Product, value)
