"""Order tools: read orders, place them (stock permitting) and cancel them."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate
from sqlalchemy import select

from mcp_resource.demo.models import ORDER_STATUSES, Customer, Order, OrderLine, Product
from mcp_resource.demo.resources import products_changed
from mcp_resource.errors import ToolError
from mcp_resource.tools import fields as json_fields
from mcp_resource.tools.base import Annotations, Tool, ToolCall, ToolResult
from mcp_resource.tools.lookup import by_id
from shared.db import db, utcnow

MAX_LINES = 20


def _order(order_id: int) -> Order:
    return by_id(Order, order_id, "order", "list_orders")


class GetOrderInput(Schema):
    order_id = json_fields.Integer(required=True, validate=validate.Range(min=1), metadata={"description": "From list_orders."})


class OrderLineOutput(Schema):
    product_id = fields.Integer(required=True)
    quantity = fields.Integer(required=True)
    unit_price_cents = fields.Integer(required=True)


class OrderOutput(Schema):
    id = fields.Integer(required=True)
    customer_id = fields.Integer(required=True)
    status = fields.String(required=True)
    total_cents = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)
    cancelled_at = fields.DateTime(allow_none=True)
    lines = fields.List(fields.Nested(OrderLineOutput), required=True)


class GetOrder(Tool):
    name = "get_order"
    description = "Look up one order by id with its lines, total and status."
    scope = "orders:read"
    annotations = Annotations(read_only=True, idempotent=True)
    Input = GetOrderInput
    Output = OrderOutput

    def run(self, call: ToolCall, args: dict[str, Any]) -> ToolResult:
        return ToolResult.json(_order(args["order_id"]).detail())


class ListOrdersInput(Schema):
    customer_id = json_fields.Integer(validate=validate.Range(min=1), metadata={"description": "Only this customer's orders."})
    status = json_fields.String(validate=validate.OneOf(ORDER_STATUSES))
    limit = json_fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class ListOrders(Tool):
    name = "list_orders"
    description = "List orders, newest first, optionally for one customer or in one status."
    scope = "orders:read"
    annotations = Annotations(read_only=True, idempotent=True)
    Input = ListOrdersInput

    def run(self, call: ToolCall, args: dict[str, Any]) -> ToolResult:
        query = select(Order).order_by(Order.created_at.desc(), Order.id.desc()).limit(args["limit"])
        if "customer_id" in args:
            query = query.where(Order.customer_id == args["customer_id"])
        if "status" in args:
            query = query.where(Order.status == args["status"])
        return ToolResult.json([o.summary() for o in db.session.scalars(query)])


class OrderLineInput(Schema):
    product_id = json_fields.Integer(required=True, validate=validate.Range(min=1))
    quantity = json_fields.Integer(required=True, validate=validate.Range(min=1, max=1000))


class CreateOrderInput(Schema):
    customer_id = json_fields.Integer(required=True, validate=validate.Range(min=1))
    lines = fields.List(fields.Nested(OrderLineInput), required=True, validate=validate.Length(min=1, max=MAX_LINES))


class CreateOrder(Tool):
    name = "create_order"
    description = "Place an order for a customer; each line names a product id and a quantity."
    scope = "orders:write"
    Input = CreateOrderInput

    def run(self, call: ToolCall, args: dict[str, Any]) -> ToolResult:
        by_id(Customer, args["customer_id"], "customer", "list_customers")
        wanted: dict[int, int] = {}
        for line in args["lines"]:
            wanted[line["product_id"]] = wanted.get(line["product_id"], 0) + line["quantity"]
        # Lock the products' rows so two orders cannot both take the last item.
        products = {p.id: p for p in db.session.scalars(select(Product).where(Product.id.in_(wanted)).with_for_update())}
        if missing := sorted(set(wanted) - set(products)):
            db.session.rollback()
            raise ToolError(f"No product with id {', '.join(map(str, missing))}; call list_products to find ids.")
        if short := [f"{products[i].name} (id {i}: {products[i].stock} left, {q} asked)" for i, q in wanted.items() if products[i].stock < q]:
            db.session.rollback()
            raise ToolError(f"Not enough stock for {'; '.join(short)}. Order less, or leave those products out.")
        order = Order(customer_id=args["customer_id"])
        for product_id, quantity in wanted.items():
            products[product_id].stock -= quantity
            order.lines.append(OrderLine(product_id=product_id, quantity=quantity, unit_price_cents=products[product_id].price_cents))
        db.session.add(order)
        db.session.commit()
        products_changed(*wanted)  # their stock
        return ToolResult.json(order.detail())


class CancelOrder(Tool):
    name = "cancel_order"
    description = "Cancel a placed order and put its items back in stock."
    scope = "orders:write"
    annotations = Annotations(destructive=True, idempotent=True)
    rate_limit_per_minute = 10  # destructive: tighter than the default for tools that change data
    Input = GetOrderInput

    def run(self, call: ToolCall, args: dict[str, Any]) -> ToolResult:
        order = _order(args["order_id"])
        if order.status == "cancelled":
            raise ToolError(f"Order {order.id} is already cancelled; nothing to do.")
        for line in order.lines:
            product = db.session.get(Product, line.product_id, with_for_update=True)
            if product is not None:
                product.stock += line.quantity
        order.status = "cancelled"
        order.cancelled_at = utcnow()
        db.session.commit()
        products_changed(*(line.product_id for line in order.lines))  # their stock
        return ToolResult.json(order.detail())
