"""`/healthz`: is this process able to reach its database and, when configured, Redis? And is any
part it depends on degraded (it answers, but something it needs is missing, e.g. a job worker)?"""

from __future__ import annotations

import logging
from collections.abc import Callable

import redis
from flask import Blueprint, Flask, Response, current_app, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from shared import services
from shared.db import db

logger = logging.getLogger(__name__)
bp = Blueprint("health", __name__)
DEGRADATION_CHECKS = "drawbridge.health.degradation_checks"


def add_degradation_check(app: Flask, name: str, check: Callable[[], str | None]) -> None:
    """`check` returns why `name` is degraded, or None. A degraded service still answers 200, with
    `"status": "degraded"` and the reasons by name: monitoring sees it, while a supervisor's
    health check (which restarts what fails) leaves a working service alone; 503 means down."""
    app.extensions.setdefault(DEGRADATION_CHECKS, {})[name] = check


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    checks = reachability()
    healthy = all(checks.values())
    body: dict[str, object] = {"status": "ok" if healthy else "unavailable"}
    body.update({name: "ok" if ok else "unreachable" for name, ok in checks.items()})
    if healthy and (degraded := _degraded()):
        body.update(status="degraded", degraded=degraded)
    return jsonify(body), 200 if healthy else 503


def reachability() -> dict[str, bool]:
    """Whether this process reaches its database and, when configured, Redis."""
    checks = {"database": _database_ok()}
    client = services.of().redis
    if client is not None:
        checks["redis"] = _redis_ok(client)
    return checks


def _degraded() -> dict[str, str]:
    checks = current_app.extensions.get(DEGRADATION_CHECKS, {})
    return {name: reason for name, check in checks.items() if (reason := check()) is not None}


def _database_ok() -> bool:
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        logger.warning("health_database_unreachable", exc_info=True)
        return False
    return True


def _redis_ok(client: redis.Redis) -> bool:
    try:
        client.ping()
    except redis.RedisError:
        logger.warning("health_redis_unreachable", exc_info=True)
        return False
    return True
