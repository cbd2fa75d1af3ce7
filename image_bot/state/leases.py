"""Repository leases: at most one process passes a repository at a time, whatever started it.

A pass takes each repository's lease in the state (`StateStore.take_lease`) before it checks
the repository out, and gives it back when the repository is done. While it holds leases, a
thread renews them every third of their time, so a lease outlives a slow repository but not
the process: a replica or job that dies (SIGKILL, a lost node) stops renewing, and after at
most `seconds` its repositories are anyone's again. Two `run --once` jobs (an overlapping
CronJob, two shards), or a job and the replicated service, therefore never push to one
repository at once; on the shared PostgreSQL state this holds across machines.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from types import TracebackType

from image_bot.state.database import StateError
from image_bot.state.store import StateStore

__all__ = ["LeaseKeeper"]

log = logging.getLogger(__name__)


class LeaseKeeper:
    """Takes, renews and gives back the leases of one holder. A context manager: leaving it
    stops the renewals and gives back whatever is still held."""

    def __init__(self, store: StateStore, holder: str, *, seconds: float) -> None:
        self.store = store
        self.holder = holder
        self.seconds = seconds
        self._held: set[str] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    def take(self, name: str) -> str | None:
        """Hold `name`: None when taken, else who holds it now."""
        if self.store.read_only:
            return None  # a dry run writes nothing, so it needs no lease
        if not self.store.take_lease(name, self.holder, seconds=self.seconds):
            return self.store.lease_holder(name) or "another process"
        with self._lock:
            self._held.add(name)
            if self._renewer is None:
                self._renewer = threading.Thread(
                    target=self._renew, name="image-bot-leases", daemon=True
                )
                self._renewer.start()
        return None

    def give_back(self, name: str) -> None:
        """Release `name` (when held)."""
        with self._lock:
            if name not in self._held:
                return
            self._held.discard(name)
        try:
            self.store.release_lease(name, self.holder)
        except StateError as error:  # it expires by itself
            log.warning("cannot release a lease", extra={"lease": name, "error": error.message})

    def _renew(self) -> None:
        while not self._stop.wait(self.seconds / 3):
            with self._lock:
                held = sorted(self._held)
            for name in held:
                try:
                    if not self.store.take_lease(name, self.holder, seconds=self.seconds):
                        log.warning("lost a lease", extra={"lease": name})
                except StateError as error:
                    log.warning("cannot renew a lease", extra={"error": error.message})

    def __enter__(self) -> LeaseKeeper:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join()
        with self._lock:
            held, self._held = sorted(self._held), set()
        for name in held:
            with contextlib.suppress(StateError):  # it expires by itself
                self.store.release_lease(name, self.holder)
