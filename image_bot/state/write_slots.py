"""Write spacing shared by every process on one PostgreSQL state (replicas, shards).

GitHub asks for a second between content-creating requests per API host, whoever sends them.
Within a process, adapters take turns (`publish.forges.github.spacing.WriteSpacing`); with W
`serve` replicas or N shards on one `state.url`, each process taking its own turns would
write W a second. Here the turns are booked in the database instead: one row per API holds
the next free slot, and a write books the slot in one statement (`GREATEST(next_at, now) +
interval`, by the database's clock, so the processes' clocks do not matter) and then sleeps
until it. No lock is held while anyone sleeps, so a process that dies after booking costs
the others at most its one slot.

`WriteSlots(url)` (close it when done) opens its own connection (at the first write: a pass
that writes nothing opens none), apart from the store's, whose transactions the writes of
other threads must not join. When the database cannot be reached, writes fall back to the
process's own spacing (and the database is tried again a little later).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from image_bot.publish.forge_kind import WriteSpacer
from image_bot.state.database import Database, StateError

__all__ = ["MAX_BACKLOG", "SharedWriteSpacing", "Slot", "WriteSlots"]

log = logging.getLogger(__name__)

_RETRY_AFTER = 30.0  # seconds of own spacing after the database failed, before trying again
# The furthest ahead turns are ever booked: far more than writers waiting at once need (one
# interval each). A next slot further ahead was not booked by waiting writers but pushed there
# (the database's clock stepped back, a hand edit): booking starts again from now instead of
# making every write wait for hours.
MAX_BACKLOG = 600.0

# Books the next slot of one API: the row's new `next_at` is the slot's end; the slot starts
# `interval` before it. Returns the slot's end and the database's time now (epoch seconds).
_BOOK = """
INSERT INTO write_slots AS slot (api, next_at)
VALUES (?, clock_timestamp() + make_interval(secs => ?))
ON CONFLICT (api) DO UPDATE
SET next_at = CASE
    WHEN slot.next_at > clock_timestamp() + make_interval(secs => ?) THEN clock_timestamp()
    ELSE GREATEST(slot.next_at, clock_timestamp())
END + make_interval(secs => ?)
RETURNING EXTRACT(EPOCH FROM slot.next_at)::float8, EXTRACT(EPOCH FROM clock_timestamp())::float8
"""


@dataclass(frozen=True, slots=True)
class Slot:
    """A booked turn: when it starts (epoch seconds, the database's clock) and how long the
    caller waits for it (0 when it has started)."""

    starts_at: float
    wait: float


def _connect(url: str) -> Database:
    from image_bot.state.postgres import PostgresDatabase  # noqa: PLC0415  (the extra)

    return PostgresDatabase(url)


class WriteSlots:
    """The write slots of the PostgreSQL state at `url`, on a connection of their own."""

    def __init__(self, url: str, *, connect: Callable[[str], Database] = _connect) -> None:
        self._url = url
        self._connect = connect
        self._db: Database | None = None
        self._lock = threading.Lock()  # one connection attempt at a time

    def book(self, api: str, interval: float) -> Slot:
        """Book the next turn of `api`, `interval` seconds after the previous one (StateError
        when the database cannot be reached)."""
        db = self._database()
        ((ends_at, now),) = db.execute(_BOOK, (api, interval, MAX_BACKLOG, interval))
        if not isinstance(ends_at, float) or not isinstance(now, float):
            raise StateError(f"state database {db.where}: write slot not a time: {ends_at!r}")
        starts_at = ends_at - interval
        return Slot(starts_at, max(0.0, starts_at - now))

    def spacing(self, api: str, own: WriteSpacer) -> SharedWriteSpacing:
        """The spacer of `api` shared through the database (a `publish.forge_kind.SharedSpacing`);
        `own` (this process's) spaces the writes while the database fails."""
        return SharedWriteSpacing(self, api, own)

    def forget_connection(self) -> None:
        """Drop the connection (after a failure: the next booking opens a new one)."""
        with self._lock:
            db, self._db = self._db, None
        if db is not None:
            db.close()

    def close(self) -> None:
        """Close the connection (if one was opened)."""
        self.forget_connection()

    def _database(self) -> Database:
        with self._lock:
            if self._db is None:
                self._db = self._connect(self._url)
            return self._db


class SharedWriteSpacing:
    """A `WriteSpacer` whose turns are booked in the shared state: at most one write per
    `interval` to `api` among every process on the database."""

    def __init__(
        self,
        slots: WriteSlots,
        api: str,
        own: WriteSpacer,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.api = api
        self.interval = own.interval
        self._slots = slots
        self._own = own
        self._sleep = sleep
        self._clock = clock
        self._own_until = 0.0  # after a failure: own spacing until then (monotonic)

    def wait(self) -> None:
        """Book this write's turn in the database and sleep until it starts."""
        if self._clock() < self._own_until:
            self._own.wait()
            return
        try:
            slot = self._slots.book(self.api, self.interval)
        except StateError as error:
            log.warning(
                "write spacing: the state database failed; spacing this process's writes only",
                extra={"error": error.message},
            )
            self._slots.forget_connection()
            self._own_until = self._clock() + _RETRY_AFTER
            self._own.wait()
            return
        if slot.wait > 0:
            self._sleep(slot.wait)
