"""Writes to one GitHub spaced out across every adapter of a pass.

GitHub asks integrators for at least a second between content-creating requests (its
secondary limits refuse more than 80 a minute). PyGithub spaces the writes of one client;
a pass works on several repositories side by side (`--concurrency`), each with its own
client, so they share one `WriteSpacing` per API host (kept by the forge kind for the pass,
or the service's lifetime) and take turns. Processes sharing a PostgreSQL state take turns
with each other too: the wiring plugs in `state.write_slots.SharedWriteSpacing`, which books
turns in the database and falls back to this one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = ["WriteSpacing"]


class WriteSpacing:
    """At most one write per `interval` seconds among all the threads that share it."""

    def __init__(
        self,
        interval: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = interval
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next = 0.0

    def wait(self) -> None:
        """Wait for this caller's turn: each turn starts `interval` after the previous one."""
        with self._lock:  # book the turn under the lock, wait for it outside
            now = self._clock()
            turn = max(now, self._next)
            self._next = turn + self.interval
        if turn > now:
            self._sleep(turn - now)
