"""A loop a service object runs beside the requests, in a daemon thread of its own process: threads
do not survive gunicorn's fork, so each worker starts it on first use, once."""

from __future__ import annotations

import threading
from collections.abc import Callable


class BackgroundLoop:
    """`target` in a daemon thread named `name`, started by the first `ensure_started` in this process."""

    def __init__(self, target: Callable[[], None], name: str) -> None:
        self.target = target
        self.name = name
        self._started = False
        self._lock = threading.Lock()

    def ensure_started(self) -> None:
        if self._started:
            return
        with self._lock:
            if not self._started:
                self._started = True
                threading.Thread(target=self.target, name=self.name, daemon=True).start()
