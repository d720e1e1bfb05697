"""Tables of the demo shop-and-blog domain."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shared.db import Model, UTCDateTime, utcnow

ORDER_STATUSES = ("placed", "cancelled")


class Customer(Model):
    __tablename__ = "demo_customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320), unique=True)
    city: Mapped[str] = mapped_column(String(100), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def summary(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "email": self.email, "city": self.city}


class Product(Model):
    __tablename__ = "demo_products"

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    price_cents: Mapped[int]
    stock: Mapped[int]

    def summary(self) -> dict[str, Any]:
        return {"id": self.id, "sku": self.sku, "name": self.name, "price_cents": self.price_cents, "stock": self.stock}


class Order(Model):
    __tablename__ = "demo_orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("demo_customers.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="placed", index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lines: Mapped[list[OrderLine]] = relationship(back_populates="order", cascade="all, delete-orphan", order_by="OrderLine.id")

    @property
    def total_cents(self) -> int:
        return sum(line.quantity * line.unit_price_cents for line in self.lines)

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "customer_id": self.customer_id,
            "status": self.status,
            "total_cents": self.total_cents,
            "created_at": self.created_at,
        }

    def detail(self) -> dict[str, Any]:
        lines = [{"product_id": li.product_id, "quantity": li.quantity, "unit_price_cents": li.unit_price_cents} for li in self.lines]
        return {**self.summary(), "cancelled_at": self.cancelled_at, "lines": lines}


class OrderLine(Model):
    __tablename__ = "demo_order_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("demo_orders.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("demo_products.id"))
    quantity: Mapped[int]
    unit_price_cents: Mapped[int]
    order: Mapped[Order] = relationship(back_populates="lines")


class Post(Model):
    """A blog post; drafts become visible to readers once published."""

    __tablename__ = "demo_posts"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def summary(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "status": self.status, "published_at": self.published_at}

    def detail(self) -> dict[str, Any]:
        return {**self.summary(), "body": self.body, "author": self.author, "created_at": self.created_at}
