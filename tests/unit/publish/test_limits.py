"""Open-PR and per-hour caps on new bot pull requests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from image_bot.model import PullRequest, PullRequestState
from image_bot.publish.limits import PullRequestLimits

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def _pr(
    number: int,
    state: PullRequestState = PullRequestState.OPEN,
    *,
    age: timedelta | None = timedelta(days=3),
    ours: bool = True,
) -> PullRequest:
    return PullRequest(
        number=number,
        url=f"https://forge/pr/{number}",
        branch=f"image-bot/b{number}",
        base="main",
        head_sha="0" * 40,
        state=state,
        fingerprint="f" if ours else None,
        created_at=None if age is None else NOW - age,
    )


def test_no_caps_means_unlimited() -> None:
    limits = PullRequestLimits()
    assert limits.remaining([_pr(1), _pr(2)], NOW) is None
    assert limits.allows([_pr(1)], NOW, creating=1000)


def test_open_cap_counts_only_open_bot_pull_requests() -> None:
    existing = [
        _pr(1),
        _pr(2),
        _pr(3, PullRequestState.CLOSED),
        _pr(4, PullRequestState.MERGED),
        _pr(5, ours=False),  # a human's PR on a bot branch
    ]
    assert PullRequestLimits(max_open=5).remaining(existing, NOW) == 3


def test_hourly_cap_counts_recently_created_open_or_closed() -> None:
    existing = [
        _pr(1, age=timedelta(minutes=10)),
        _pr(2, PullRequestState.CLOSED, age=timedelta(minutes=59)),
        _pr(3, age=timedelta(minutes=61)),
        _pr(4, age=None),
    ]
    assert PullRequestLimits(max_per_hour=3).remaining(existing, NOW) == 1


def test_the_tighter_cap_wins_and_never_goes_negative() -> None:
    existing = [_pr(n, age=timedelta(minutes=5)) for n in range(4)]
    limits = PullRequestLimits(max_open=10, max_per_hour=2)
    assert limits.remaining(existing, NOW) == 0
    assert not limits.allows(existing, NOW)
    assert PullRequestLimits(max_open=6, max_per_hour=20).remaining(existing, NOW) == 2


def test_negative_caps_are_refused() -> None:
    with pytest.raises(ValueError, match="max_open"):
        PullRequestLimits(max_open=-1)
