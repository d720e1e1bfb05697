"""Every demo tool over real HTTP against the live server: its happy path and the errors a model can act on."""

from __future__ import annotations

import asyncio
import json
import secrets

import jsonschema
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from mcp_resource.demo.models import Customer, Product
from shared.db import db
from tests.factories import sign, valid_claims
from tests.mcp_http import rpc

pytestmark = pytest.mark.usefixtures("live_services")

SCOPES = "customers:read products:read orders:read orders:write posts:read posts:write"


@pytest.fixture
def http(settings) -> str:
    """The live MCP server's URL: every call below is a real HTTP request to gunicorn."""
    return settings.resource_url


@pytest.fixture
def token(settings, auth_context) -> str:
    return sign(valid_claims(settings, scope=SCOPES))


def call(http: str, token: str, name: str, arguments: dict) -> tuple[bool, object]:
    """(isError, the parsed JSON payload or the error text)."""
    result = rpc(http, token, "tools/call", {"name": name, "arguments": arguments}).json()["result"]
    text = result["content"][0]["text"]
    return result["isError"], text if result["isError"] else json.loads(text)


@pytest.fixture
def product(mcp_app) -> Product:
    with mcp_app.app_context():
        item = Product(sku=f"T-{secrets.token_hex(4)}", name="Test widget", price_cents=700, stock=3)
        db.session.add(item)
        db.session.commit()
        db.session.refresh(item)
        db.session.expunge(item)
        return item


@pytest.fixture
def customer(mcp_app) -> Customer:
    with mcp_app.app_context():
        person = Customer(name="Test Customer", email=f"c{secrets.token_hex(4)}@example.com", city="Testville")
        db.session.add(person)
        db.session.commit()
        db.session.refresh(person)
        db.session.expunge(person)
        return person


def test_customers_are_listed_and_looked_up(http, token, customer):
    failed, listed = call(http, token, "list_customers", {"city": "Testville"})
    assert not failed and [c["id"] for c in listed] == [customer.id]

    failed, found = call(http, token, "get_customer", {"customer_id": float(customer.id)})  # 7.0 is 7
    assert not failed and found["email"] == customer.email

    failed, message = call(http, token, "get_customer", {"customer_id": 99999999})
    assert failed and message == "No customer with id 99999999; call list_customers to find ids."


def test_products_are_listed_with_stock_and_looked_up(http, token, product):
    failed, in_stock = call(http, token, "list_products", {"in_stock_only": True, "limit": 100})
    assert not failed and all(p["stock"] > 0 for p in in_stock)

    failed, found = call(http, token, "get_product", {"product_id": product.id})
    assert not failed and found["price_cents"] == 700

    failed, message = call(http, token, "list_products", {"in_stock_only": "yes"})
    assert failed and "in_stock_only: Not a boolean; send true or false." in message


def test_an_order_takes_stock_and_cancelling_gives_it_back(http, token, customer, product):
    failed, order = call(http, token, "create_order", {"customer_id": customer.id, "lines": [{"product_id": product.id, "quantity": 2}]})
    assert not failed and order["total_cents"] == 1400 and order["status"] == "placed"
    assert call(http, token, "get_product", {"product_id": product.id})[1]["stock"] == 1

    failed, listed = call(http, token, "list_orders", {"customer_id": customer.id})
    assert not failed and [o["id"] for o in listed] == [order["id"]]
    assert call(http, token, "get_order", {"order_id": order["id"]})[1]["lines"][0]["quantity"] == 2

    failed, cancelled = call(http, token, "cancel_order", {"order_id": order["id"]})
    assert not failed and cancelled["status"] == "cancelled"
    assert call(http, token, "get_product", {"product_id": product.id})[1]["stock"] == 3

    failed, message = call(http, token, "cancel_order", {"order_id": order["id"]})
    assert failed and message == f"Order {order['id']} is already cancelled; nothing to do."


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ([{"product_id": "PRODUCT", "quantity": 4}], "Not enough stock for Test widget"),
        ([{"product_id": 99999999, "quantity": 1}], "No product with id 99999999"),
        ([], "lines: Length must be between 1 and 20."),
        ([{"product_id": "PRODUCT", "quantity": 1.5}], "lines.0.quantity: Not a whole number; send a JSON integer such as 3."),
    ],
    ids=["short-of-stock", "unknown-product", "no-lines", "fractional-quantity"],
)
def test_orders_that_cannot_be_placed_say_why_and_change_nothing(http, token, customer, product, lines, expected):
    lines = [{**line, "product_id": product.id if line["product_id"] == "PRODUCT" else line["product_id"]} for line in lines]

    failed, message = call(http, token, "create_order", {"customer_id": customer.id, "lines": lines})

    assert failed and expected in message
    assert call(http, token, "get_product", {"product_id": product.id})[1]["stock"] == 3


def test_an_order_for_an_unknown_customer_is_refused(http, token, product):
    failed, message = call(http, token, "create_order", {"customer_id": 99999999, "lines": [{"product_id": product.id, "quantity": 1}]})

    assert failed and message == "No customer with id 99999999; call list_customers to find ids."


def test_a_draft_is_edited_then_published_and_then_frozen(http, token):
    _, draft = call(http, token, "create_post", {"title": "Draft", "body": "First words."})

    failed, edited = call(http, token, "update_post", {"post_id": draft["id"], "title": "  Better title  "})
    assert not failed and edited["title"] == "Better title" and edited["body"] == "First words."

    failed, published = call(http, token, "publish_post", {"post_id": draft["id"]})
    assert not failed and published["status"] == "published" and published["published_at"]

    failed, message = call(http, token, "update_post", {"post_id": draft["id"], "body": "Too late."})
    assert failed and "is published and can no longer be edited" in message
    failed, message = call(http, token, "publish_post", {"post_id": draft["id"]})
    assert failed and "already published" in message


def test_an_update_with_nothing_to_change_says_so(http, token):
    _, draft = call(http, token, "create_post", {"title": "Draft", "body": "Words."})

    failed, message = call(http, token, "update_post", {"post_id": draft["id"]})

    assert failed and message == "Nothing to change: send a new title, a new body, or both."


def structured_call(http: str, token: str, name: str, arguments: dict) -> tuple[dict, dict]:
    result = rpc(http, token, "tools/call", {"name": name, "arguments": arguments}).json()["result"]
    listed = rpc(http, token, "tools/list").json()["result"]["tools"]
    return result, next(t["outputSchema"] for t in listed if t["name"] == name)


@pytest.mark.parametrize("name", ["get_customer", "get_product", "get_order"])
def test_tools_with_an_output_schema_return_conforming_structured_content(http, token, customer, product, name):
    _, order = call(http, token, "create_order", {"customer_id": customer.id, "lines": [{"product_id": product.id, "quantity": 1}]})
    arguments = {"get_customer": {"customer_id": customer.id}, "get_product": {"product_id": product.id}, "get_order": {"order_id": order["id"]}}

    result, schema = structured_call(http, token, name, arguments[name])

    jsonschema.validate(result["structuredContent"], schema)  # the published outputSchema, checked with a 2020-12 validator
    assert json.loads(result["content"][0]["text"]) == result["structuredContent"]


def test_tools_without_an_output_schema_return_text_only(http, token):
    result = rpc(http, token, "tools/call", {"name": "list_posts", "arguments": {}}).json()["result"]

    assert "structuredContent" not in result


def test_the_official_sdk_client_places_an_order_and_reads_a_refusal(settings, token, customer, product):
    async def session() -> tuple[dict, bool, str]:
        http_client = create_mcp_http_client(headers={"Authorization": f"Bearer {token}"})
        async with Client(streamable_http_client(settings.resource_url, http_client=http_client)) as client:
            placed = await client.call_tool("create_order", {"customer_id": customer.id, "lines": [{"product_id": product.id, "quantity": 3}]})
            refused = await client.call_tool("create_order", {"customer_id": customer.id, "lines": [{"product_id": product.id, "quantity": 1}]})
            return placed.structured_content or json.loads(placed.content[0].text), refused.is_error, refused.content[0].text

    order, refused, message = asyncio.run(session())

    assert order["total_cents"] == 2100
    assert refused is True
    assert message.startswith("Not enough stock for Test widget")
