"""The typed holder of an app's long-lived services, one per app: the CLI's holds its Redis client
only; each service's adds its own (mcp_resource/services.py, authserver/services.py). Services whose
background loops must run in the process that serves are started by `start()`, which gunicorn's
post_worker_init calls in each worker after the fork (serving/hooks.py), and ended by `stop()`."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import redis
from flask import Flask

from serving.context import current_flask_app
from shared import revocation

# The one app.extensions key of ours; read it through `of`, or a service's typed accessor.
EXTENSION = "drawbridge"


@dataclass(eq=False)
class Services:
    """What every Drawbridge app holds: its Redis client, None on the embedded default."""

    redis: redis.Redis | None

    @cached_property
    def revocations(self) -> revocation.Revocations:
        """The revocation set on this app's Redis, or its database without one."""
        return revocation.for_client(self.redis)

    def start(self) -> None:
        """Start the background loops, once per process, after any fork."""

    def stop(self) -> None:
        """Stop them (each ends at its next pause)."""


def install(app: Flask, services: Services) -> None:
    app.extensions[EXTENSION] = services


def of(app: Flask | None = None) -> Services:
    """The services of `app`, or of the app handling this request or command."""
    found: Services = (app or current_flask_app()).extensions[EXTENSION]
    return found
