"""Rate-limit headers (`ratelimit-remaining: 97;w=21600`) and `Retry-After`: slow down early."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from image_bot.errors import RegistryUnavailable

__all__ = ["Pacer", "parse_rate_limit", "parse_retry_after"]

# At most 15 digits: a longer number is no quota (and int() refuses over 4300 digits).
_QUOTA = re.compile(r"\s*([0-9]{1,15})\s*(?:;\s*w\s*=\s*([0-9]{1,15}))?(?![0-9])")

Sleep = Callable[[float], Awaitable[None]]


def parse_retry_after(headers: httpx.Headers, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from `Retry-After` (delta seconds or an HTTP date); None if absent."""
    value = headers.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():  # not "²": str.isdigit accepts more than 0-9
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def parse_rate_limit(headers: httpx.Headers) -> tuple[int, int | None, float | None] | None:
    """(remaining, limit, window seconds) from `ratelimit-*` or `x-ratelimit-*` headers."""
    remaining_text = headers.get("ratelimit-remaining") or headers.get("x-ratelimit-remaining")
    if remaining_text is None:
        return None
    match = _QUOTA.match(remaining_text)
    if match is None:
        return None
    remaining = int(match.group(1))
    window = float(match.group(2)) if match.group(2) else None
    limit: int | None = None
    limit_match = _QUOTA.match(
        headers.get("ratelimit-limit") or headers.get("x-ratelimit-limit") or ""
    )
    if limit_match is not None:
        limit = int(limit_match.group(1))
        window = window or (float(limit_match.group(2)) if limit_match.group(2) else None)
    return remaining, limit, window


class Pacer:
    """Spaces requests to one registry once its remaining quota runs low.

    Above the reserve nothing waits. At or below it, requests are spaced by
    `window / remaining` (capped at `max_delay`), so the quota lasts instead of running into
    429s. With nothing left, requests are not sent at all: RegistryUnavailable(retry_after).
    """

    def __init__(
        self,
        host: str,
        *,
        reserve: int = 10,
        reserve_fraction: float = 0.1,
        max_delay: float = 5.0,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.host = host
        self.reserve = reserve
        self.reserve_fraction = reserve_fraction
        self.max_delay = max_delay
        self._sleep = sleep
        self._clock = clock
        self._lock = asyncio.Lock()
        self._last = float("-inf")
        self.remaining: int | None = None
        self.limit: int | None = None
        self.window: float | None = None

    def observe(self, headers: httpx.Headers) -> None:
        """Remember the quota a response reported."""
        parsed = parse_rate_limit(headers)
        if parsed is not None:
            self.remaining, self.limit, window = parsed
            self.window = window or self.window

    def delay(self) -> float:
        """Seconds between requests at the current quota (0 when far from the limit)."""
        if self.remaining is None:
            return 0.0
        reserve = max(self.reserve, int((self.limit or 0) * self.reserve_fraction))
        if self.remaining > reserve:
            return 0.0
        window = self.window or 60.0
        return min(self.max_delay, window / max(self.remaining, 1))

    async def wait(self, image: str | None = None) -> None:
        """Wait as long as the quota asks before the next request, or refuse to send it."""
        if self.remaining is not None and self.remaining <= 0:
            raise RegistryUnavailable(
                self.host,
                "rate limit exhausted (ratelimit-remaining: 0); not sending more requests",
                image=image,
                retry_after=self.window,
            )
        delay = self.delay()
        if delay <= 0:
            return
        async with self._lock:
            pause = self._last + delay - self._clock()
            if pause > 0:
                await self._sleep(pause)
            self._last = self._clock()
