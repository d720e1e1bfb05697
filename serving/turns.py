"""Fair turns between connections in a gevent worker."""

from __future__ import annotations

import time


def take_turns() -> None:
    """Let other connections' requests run first: gevent otherwise serves one keep-alive connection
    back to back while the rest wait (time.sleep is gevent's under the worker, a no-op elsewhere).
    Each app runs it before every request (shared/app.py)."""
    time.sleep(0)
