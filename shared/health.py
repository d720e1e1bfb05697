"""`/healthz`: is this process able to reach its database and, when configured, Redis?"""

from __future__ import annotations

import logging

import redis
from flask import Blueprint, Response, current_app, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from shared.db import db

logger = logging.getLogger(__name__)
bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    checks = {"database": _database_ok()}
    client = current_app.extensions.get("drawbridge.redis")
    if client is not None:
        checks["redis"] = _redis_ok(client)
    healthy = all(checks.values())
    body = {"status": "ok" if healthy else "unavailable"}
    body.update({name: "ok" if ok else "unreachable" for name, ok in checks.items()})
    return jsonify(body), 200 if healthy else 503


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
