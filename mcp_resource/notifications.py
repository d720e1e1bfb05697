"""Server notifications for open streams: tool switches watched in the database, fanned out in process.

Every worker polls the `tool_states` table every few seconds (one small query), so an operator's
`drawbridge tools enable|disable` reaches every worker and instance without a broker, and each
open stream (a modern `subscriptions/listen`, a legacy GET stream) hears `tools/list_changed`.
"""

from __future__ import annotations

import logging
import queue
import threading
from datetime import datetime

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from mcp_resource import tool_states
from mcp_resource.models import ToolState
from mcp_resource.tools.registry import ToolRegistry
from shared.background import BackgroundLoop
from shared.db import db

logger = logging.getLogger(__name__)

TOOLS_LIST_CHANGED = "notifications/tools/list_changed"
POLL_SECONDS = 2.0


class Hub:
    """Fans each notification method out to every subscriber queue of this process."""

    def __init__(self) -> None:
        self._subscribers: set[queue.Queue[str]] = set()
        self._lock = threading.Lock()

    def subscribe(self) -> queue.Queue[str]:
        inbox: queue.Queue[str] = queue.Queue()
        with self._lock:
            self._subscribers.add(inbox)
        return inbox

    def unsubscribe(self, inbox: queue.Queue[str]) -> None:
        with self._lock:
            self._subscribers.discard(inbox)

    def publish(self, method: str) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for inbox in subscribers:
            inbox.put(method)


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
                self.hub.publish(TOOLS_LIST_CHANGED)
                return True
        return False

    def _loop(self) -> None:
        while self._poller.running:
            try:
                self.refresh()
            except SQLAlchemyError:
                logger.warning("tool_state_poll_failed", exc_info=True)
            self._poller.pause(POLL_SECONDS)
