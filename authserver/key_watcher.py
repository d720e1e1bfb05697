"""Each worker's watch on the signing keys: a key added or retired by any process (`drawbridge keys
rotate`, another worker's automatic rotation) is signing here within POLL_SECONDS, not when this
worker's copy of the keys next goes stale; and with DRAWBRIDGE_SIGNING_KEY_ROTATION_DAYS set, the
active key is rotated once it is that old, by whichever worker looks first."""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from authserver import keys
from authserver.models import SigningKey
from shared.background import BackgroundLoop
from shared.db import db, utcnow

logger = logging.getLogger(__name__)

# One small query per worker this often: how many keys, the newest, the latest retirement.
POLL_SECONDS = 1.0


class KeyWatcher:
    """Reads the keys again when the signing_keys table changes; rotates by age when asked to."""

    def __init__(self, app: Flask, keys_state: keys.KeyState, rotate_after: timedelta | None) -> None:
        self.app = app
        self.keys_state = keys_state
        self.rotate_after = rotate_after
        self._seen: tuple[int, object, object] | None = None
        self._poller = BackgroundLoop(self._loop, "key-watcher")

    def start(self) -> None:
        """Start watching in this process (after gunicorn forked it), once."""
        self._poller.start()

    def stop(self) -> None:
        self._poller.stop()

    def check(self) -> None:
        """Rotate if the active key is due, then drop this process's copy of the keys if they changed."""
        with self.app.app_context():
            count, newest, last_retired = db.session.execute(
                select(func.count(), func.max(SigningKey.created_at), func.max(SigningKey.retired_at))
            ).one()
            if self.rotate_after is not None and newest is not None and newest <= utcnow() - self.rotate_after:
                rotated = keys.rotate_if_older_than(self.rotate_after)
                if rotated is not None:
                    logger.info("signing_key_rotated", extra={"kid": rotated.kid, "reason": "age"})
                return  # the next look sees the new key
            seen = (count, newest, last_retired)
            if seen != self._seen:
                self.keys_state.cache.clear()
                self._seen = seen

    def _loop(self) -> None:
        while self._poller.running:
            try:
                self.check()
            except SQLAlchemyError:
                # This worker signs on with the keys it has until the database answers again.
                logger.warning("key_watch_failed", exc_info=True)
            self._poller.pause(POLL_SECONDS)
