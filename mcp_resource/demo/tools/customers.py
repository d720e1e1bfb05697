"""Customer tools."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate
from sqlalchemy import select

from mcp_resource.demo.models import Customer
from mcp_resource.tools import fields as json_fields
from mcp_resource.tools.base import Annotations, Tool, ToolCall, ToolResult
from mcp_resource.tools.lookup import by_id
from shared.db import db

READ_ONLY = Annotations(read_only=True, idempotent=True)


class GetCustomerInput(Schema):
    customer_id = json_fields.Integer(required=True, validate=validate.Range(min=1), metadata={"description": "From list_customers."})


class CustomerOutput(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    email = fields.String(required=True)
    city = fields.String(required=True)


class GetCustomer(Tool):
    name = "get_customer"
    description = "Look up one customer by id: name, email and city."
    scope = "customers:read"
    annotations = READ_ONLY
    Input = GetCustomerInput
    Output = CustomerOutput

    def run(self, call: ToolCall, args: dict[str, Any]) -> ToolResult:
        return ToolResult.json(by_id(Customer, args["customer_id"], "customer", "list_customers").summary())


class ListCustomersInput(Schema):
    city = json_fields.String(validate=validate.Length(min=1, max=100), metadata={"description": "Only customers in this city."})
    limit = json_fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class ListCustomers(Tool):
    name = "list_customers"
    description = "List customers by name, optionally only those in one city."
    scope = "customers:read"
    annotations = READ_ONLY
    Input = ListCustomersInput

    def run(self, call: ToolCall, args: dict[str, Any]) -> ToolResult:
        query = select(Customer).order_by(Customer.name).limit(args["limit"])
        if "city" in args:
            query = query.where(Customer.city == args["city"])
        return ToolResult.json([c.summary() for c in db.session.scalars(query)])
