"""Demo data, added once: a database that already has posts is left alone."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from mcp_resource.demo.models import Customer, Order, OrderLine, Post, Product
from shared.db import db, utcnow

DEMO_POSTS = (
    ("Welcome to the Drawbridge blog", "Drawbridge puts an application behind MCP safely.", "published"),
    ("Scopes in plain words", "Every token carries scopes, and every tool names the one it needs.", "published"),
    ("Rate limits that hold", "One atomic Redis call per tool call keeps runaway agents in check.", "published"),
    ("Notes for the next release", "Consent screens, refresh rotation and the stateless protocol.", "draft"),
)
DEMO_CUSTOMERS = (
    ("Ada Lovelace", "ada@example.com", "London"),
    ("Grace Hopper", "grace@example.com", "Arlington"),
    ("Alan Turing", "alan@example.com", "Manchester"),
    ("Katherine Johnson", "katherine@example.com", "Hampton"),
    ("Edsger Dijkstra", "edsger@example.com", "Nuenen"),
)
DEMO_PRODUCTS = (
    ("MUG-01", "Drawbridge mug", 1200, 40),
    ("TEE-01", "Drawbridge t-shirt", 2500, 25),
    ("CAP-01", "Cap with a castle", 1800, 0),
    ("STK-01", "Sticker pack", 400, 300),
    ("BOK-01", "The MCP handbook", 3900, 12),
    ("PEN-01", "Fountain pen", 5400, 5),
)


def seed() -> int:
    """Add the demo data to empty tables; returns how many rows were added."""
    if db.session.scalar(select(func.count()).select_from(Post)):
        return 0
    now = utcnow()
    for age_days, (title, body, status) in enumerate(reversed(DEMO_POSTS)):
        created = now - timedelta(days=age_days)
        published = created if status == "published" else None
        db.session.add(Post(title=title, body=body, author="editor@example.com", status=status, created_at=created, published_at=published))
    customers = [Customer(name=n, email=e, city=c) for n, e, c in DEMO_CUSTOMERS]
    products = [Product(sku=s, name=n, price_cents=p, stock=q) for s, n, p, q in DEMO_PRODUCTS]
    db.session.add_all([*customers, *products])
    db.session.flush()
    orders = [
        Order(customer_id=customers[0].id, lines=[OrderLine(product_id=products[0].id, quantity=2, unit_price_cents=1200)]),
        Order(customer_id=customers[1].id, lines=[OrderLine(product_id=products[4].id, quantity=1, unit_price_cents=3900)]),
        Order(customer_id=customers[0].id, status="cancelled", cancelled_at=now,
              lines=[OrderLine(product_id=products[1].id, quantity=1, unit_price_cents=2500)]),
    ]
    db.session.add_all(orders)
    db.session.commit()
    return len(DEMO_POSTS) + len(customers) + len(products) + len(orders)
