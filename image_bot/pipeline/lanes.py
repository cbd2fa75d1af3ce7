"""Repositories side by side: bounded per forge host, within the host's rate-limit budget.

`HostLanes.map` runs one function per repository on threads, at most `per_host` at a time
for each forge host (a pass over 1,000 repositories on one GitHub does `per_host` at once;
one on GitHub and GitLab does `per_host` on each). Results keep the repositories' order.
With `per_host=1` and one host everything runs in the calling thread, as before.

`ForgeBudget` watches what every forge adapter opened for a host says is left of its
rate-limit window (`RateLimitReporter`): once it falls to `reserve`, no further repository of
that host starts publishing this pass; they are reported as left for the next pass instead
of each failing on an exhausted quota.
"""

from __future__ import annotations

import dataclasses
import itertools
import threading
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar
from urllib.parse import urlsplit

from image_bot.publish.forge import Forge, RateLimitReporter
from image_bot.publish.forge_kind import RepositoryForge

__all__ = ["ForgeBudget", "HostLanes", "forge_host", "one_at_a_time"]

T = TypeVar("T")
R = TypeVar("R")
P = ParamSpec("P")


def forge_host(forge: RepositoryForge) -> str:
    """The host whose API (and rate limit) `forge` uses: the API's host, else the clone's."""
    settings = forge.settings
    return urlsplit(settings.api_url or settings.repo_url).hostname or settings.type


def one_at_a_time(work: Callable[P, R]) -> Callable[P, R]:
    """`work`, called by one thread at a time (for what repositories side by side share
    and that keeps state between calls)."""
    lock = threading.Lock()

    def serialised(*args: P.args, **kwargs: P.kwargs) -> R:
        with lock:
            return work(*args, **kwargs)

    return serialised


class HostLanes:
    """Runs work per item on threads, at most `per_host` at a time per host."""

    def __init__(self, per_host: int) -> None:
        if per_host < 1:
            raise ValueError("per_host must be at least 1")
        self.per_host = per_host

    def map(self, items: Sequence[T], hosts: Sequence[str], work: Callable[[int, T], R]) -> list[R]:
        """`work(index, item)` for every item (`hosts[index]` is its host); the results in
        the items' order."""
        lanes = {host: threading.Semaphore(self.per_host) for host in hosts}
        if self.per_host == 1 and len(lanes) <= 1:
            return [work(index, item) for index, item in enumerate(items)]

        def run(index: int) -> R:
            with lanes[hosts[index]]:
                return work(index, items[index])

        # hosts take turns in the submission order, so no host's queue starves another's
        by_host: defaultdict[str, list[int]] = defaultdict(list)
        for index, host in enumerate(hosts):
            by_host[host].append(index)
        order = [
            index
            for turn in itertools.zip_longest(*by_host.values())
            for index in turn
            if index is not None
        ]
        workers = min(len(items), self.per_host * len(lanes))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="image-bot-repo") as pool:
            futures = {index: pool.submit(run, index) for index in order}
            return [futures[index].result() for index in range(len(items))]


class ForgeBudget:
    """The rate-limit budget of each forge host, shared by the repositories of a pass."""

    def __init__(self, reserve: int) -> None:
        self.reserve = reserve
        self._lock = threading.Lock()
        self._opened: defaultdict[str, list[RateLimitReporter]] = defaultdict(list)

    def watching(self, forge: RepositoryForge) -> RepositoryForge:
        """`forge`, telling this budget of every adapter it opens."""
        host = forge_host(forge)
        told = forge.on_open

        def opened(adapter: Forge) -> None:
            if told is not None:
                told(adapter)
            if isinstance(adapter, RateLimitReporter):
                with self._lock:
                    self._opened[host].append(adapter)

        return dataclasses.replace(forge, on_open=opened)

    def remaining(self, host: str) -> int | None:
        """The smallest quota left that any adapter of `host` last saw; None: not known."""
        with self._lock:
            adapters = list(self._opened[host])
        seen = [left for left in (a.rate_limit_remaining() for a in adapters) if left is not None]
        return min(seen) if seen else None

    def refusal(self, host: str) -> str | None:
        """Why no further repository of `host` should start publishing (None: go ahead)."""
        left = self.remaining(host)
        if left is not None and left <= self.reserve:
            return (
                f"{host}: {left} API requests left in the rate-limit window (keeping"
                f" {self.reserve} in reserve); left for the next pass"
            )
        return None
