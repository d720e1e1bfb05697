"""Product catalogue tools."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate
from sqlalchemy import select

from mcp_resource.demo.models import Product
from mcp_resource.tools import fields as json_fields
from mcp_resource.tools.base import Annotations, Tool, ToolCall, ToolResult
from mcp_resource.tools.lookup import by_id
from shared.db import db

READ_ONLY = Annotations(read_only=True, idempotent=True)


class ListProductsInput(Schema):
    in_stock_only = json_fields.Boolean(load_default=False, metadata={"description": "Leave out products with no stock."})
    limit = json_fields.Integer(load_default=50, validate=validate.Range(min=1, max=100))


class ListProducts(Tool):
    name = "list_products"
    description = "List the products for sale with their prices in cents and stock."
    scope = "products:read"
    annotations = READ_ONLY
    Input = ListProductsInput

    def run(self, call: ToolCall, args: dict[str, Any]) -> ToolResult:
        query = select(Product).order_by(Product.name).limit(args["limit"])
        if args["in_stock_only"]:
            query = query.where(Product.stock > 0)
        return ToolResult.json([p.summary() for p in db.session.scalars(query)])


class GetProductInput(Schema):
    product_id = json_fields.Integer(required=True, validate=validate.Range(min=1), metadata={"description": "From list_products."})


class ProductOutput(Schema):
    id = fields.Integer(required=True)
    sku = fields.String(required=True)
    name = fields.String(required=True)
    price_cents = fields.Integer(required=True)
    stock = fields.Integer(required=True)


class GetProduct(Tool):
    name = "get_product"
    description = "Look up one product by id: name, price in cents and stock."
    scope = "products:read"
    annotations = READ_ONLY
    Input = GetProductInput
    Output = ProductOutput

    def run(self, call: ToolCall, args: dict[str, Any]) -> ToolResult:
        return ToolResult.json(by_id(Product, args["product_id"], "product", "list_products").summary())
