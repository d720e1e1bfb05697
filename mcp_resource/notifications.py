"""Server notifications for open streams, fanned out in process (`Hub`) to each open stream (a
modern `subscriptions/listen`, a legacy GET stream), which keeps those it was asked for.

Tool switches: every worker polls the `tool_states` table every few seconds (one small query), so
an operator's `drawbridge tools enable|disable` reaches every worker and instance without a broker,
and the streams hear `tools/list_changed`.

Resource updates: application code says a resource changed (`mcp_resource.resources.changed`);
with Redis the URI is published once on a channel that each worker's one pub/sub listener hears
(wakeups.Listener, which also wakes the streams waiting on the event log), so the stream holding
the subscription hears `resources/updated` whichever worker, instance or job saw the change.
"""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass
from datetime import datetime

import redis
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from mcp_resource import tool_states
from mcp_resource.models import ToolState
from mcp_resource.tools.registry import ToolRegistry
from mcp_resource.wakeups import Listener
from shared import redis as drawbridge_redis
from shared.background import BackgroundLoop
from shared.db import db

logger = logging.getLogger(__name__)

TOOLS_LIST_CHANGED = "notifications/tools/list_changed"
RESOURCES_UPDATED = "notifications/resources/updated"
POLL_SECONDS = 2.0
# How long a stream that may hear resource updates waits, at its start, for its worker's listener
# to be subscribed (Redis confirms it), so a change made after the client heard the stream open
# is never missed; past it (Redis away) the stream opens anyway and hears updates once it is back.
LISTENER_READY_SECONDS = 5.0


@dataclass(frozen=True)
class Notice:
    """One notification for the streams: its method, and for resources/updated the URI that changed."""

    method: str
    uri: str | None = None


class Hub:
    """Fans each notice out to every subscriber queue of this process."""

    def __init__(self) -> None:
        self._subscribers: set[queue.Queue[Notice]] = set()
        self._lock = threading.Lock()

    def subscribe(self) -> queue.Queue[Notice]:
        inbox: queue.Queue[Notice] = queue.Queue()
        with self._lock:
            self._subscribers.add(inbox)
        return inbox

    def unsubscribe(self, inbox: queue.Queue[Notice]) -> None:
        with self._lock:
            self._subscribers.discard(inbox)

    def publish(self, notice: Notice) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for inbox in subscribers:
            inbox.put(notice)


class ResourceUpdates:
    """Resource changes to this process's streams (the embedded default: one process)."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    def changed(self, *uris: str) -> None:
        for uri in uris:
            self.hub.publish(Notice(RESOURCES_UPDATED, uri))

    def listen(self) -> None:
        """Before a stream that may hear updates opens: nothing to wait for in one process."""


class RedisResourceUpdates(ResourceUpdates):
    """Resource changes published on CHANNEL, heard by every worker's listener and fanned out there."""

    CHANNEL = drawbridge_redis.key("resources", "updated")

    def __init__(self, hub: Hub, client: redis.Redis, listener: Listener) -> None:
        super().__init__(hub)
        self.client = client
        self.listener = listener
        listener.on(self.CHANNEL, super().changed)

    def changed(self, *uris: str) -> None:
        """A PUBLISH per URI, in one round trip; a change already made is never undone by a lost
        notification (logged)."""
        pipe = self.client.pipeline(transaction=False)
        for uri in uris:
            pipe.publish(self.CHANNEL, uri)
        try:
            pipe.execute()
        except redis.RedisError:
            logger.warning("resource_update_not_published", extra={"uris": list(uris)}, exc_info=True)

    def listen(self) -> None:
        if not self.listener.start(LISTENER_READY_SECONDS):
            logger.warning("resource_updates_not_listening")


def resource_updates(hub: Hub, client: redis.Redis | None, listener: Listener | None) -> ResourceUpdates:
    return RedisResourceUpdates(hub, client, listener) if client is not None and listener is not None else ResourceUpdates(hub)


class ToolStateWatcher:
    """Keeps the registry's disabled set in step with the database and announces changes."""

    def __init__(self, app: Flask, registry: ToolRegistry, hub: Hub) -> None:
        self.app = app
        self.registry = registry
        self.hub = hub
        self._seen: tuple[datetime | None, int] | None = None
        self._poller = BackgroundLoop(self._loop, "tool-state-watcher")

    def start(self) -> None:
        """Start polling in this process (after gunicorn forked it), once."""
        self._poller.start()

    def stop(self) -> None:
        self._poller.stop()

    def refresh(self) -> bool:
        """Read the switches; True (and an announcement) if they changed since the last read."""
        with self.app.app_context():
            marker = db.session.execute(select(func.max(ToolState.changed_at), func.count())).one()
            seen = (marker[0], marker[1])
            if seen == self._seen:
                return False
            disabled = tool_states.disabled()
        first = self._seen is None
        self._seen = seen
        if disabled != self.registry.disabled:
            self.registry.disabled = disabled
            if not first:
                logger.info("tools_changed", extra={"disabled": sorted(disabled)})
                self.hub.publish(Notice(TOOLS_LIST_CHANGED))
                return True
        return False

    def _loop(self) -> None:
        while self._poller.running:
            try:
                self.refresh()
            except SQLAlchemyError:
                logger.warning("tool_state_poll_failed", exc_info=True)
            self._poller.pause(POLL_SECONDS)
