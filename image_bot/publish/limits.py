"""How many new bot pull requests a pass may open: open-PR and per-hour limits (pure)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from image_bot.model import PullRequest, PullRequestState

__all__ = ["PullRequestLimits"]

_HOUR = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class PullRequestLimits:
    """Caps on the bot's pull requests in one repository; `None` means no cap.

    `max_open` counts the bot's open pull requests (Renovate's `prConcurrentLimit`);
    `max_per_hour` counts those created in the last hour, open or closed since
    (`prHourlyLimit`). Only pull requests carrying the bot's marker count: a human's PR on a
    bot branch is not the bot's doing.
    """

    max_open: int | None = None
    max_per_hour: int | None = None

    def __post_init__(self) -> None:
        for name in ("max_open", "max_per_hour"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"{name} must be >= 0, got {value}")

    def remaining(self, existing: Iterable[PullRequest], now: datetime) -> int | None:
        """How many more pull requests may be opened now (None: unlimited).

        `existing` is what `Forge.bot_pull_requests` returned (open and recently closed);
        `now` must be timezone-aware like the forge's `created_at` values. A PR without a
        `created_at` is not counted against the hourly cap (the forge did not say when).
        """
        ours = [pr for pr in existing if pr.fingerprint is not None]
        allowances: list[int] = []
        if self.max_open is not None:
            opened = sum(1 for pr in ours if pr.state is PullRequestState.OPEN)
            allowances.append(self.max_open - opened)
        if self.max_per_hour is not None:
            since = now - _HOUR
            recent = sum(1 for pr in ours if pr.created_at is not None and pr.created_at > since)
            allowances.append(self.max_per_hour - recent)
        if not allowances:
            return None
        return max(0, min(allowances))

    def allows(self, existing: Iterable[PullRequest], now: datetime, *, creating: int = 1) -> bool:
        """Whether `creating` more pull requests fit under both caps."""
        left = self.remaining(existing, now)
        return left is None or creating <= left
