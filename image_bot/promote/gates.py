"""The gates of a promotion: hold, soak, checks, window and freeze, for one upstream entry.

A verdict says whether the upstream version may be promoted now and, when not, why and when
it will be allowed (`opens_at`; None when that depends on something else: a human lifting a
hold, checks turning green).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from image_bot.history.entries import Entry
from image_bot.model import CheckState
from image_bot.promote.stages import Stage

__all__ = ["Verdict", "all_of", "gate", "short_duration", "short_sha"]


@dataclass(frozen=True, slots=True)
class Verdict:
    """May it go now? If not: why (`reason`) and when it will (`opens_at`, None: unknown)."""

    ready: bool
    reason: str = ""
    opens_at: datetime | None = None

    @property
    def blocked(self) -> bool:
        """Not ready, and no time is known when it will be (hold, failed checks)."""
        return not self.ready and self.opens_at is None


def short_duration(delta: timedelta) -> str:
    """`5h12m`, `2d3h`, `45m`, `30s` (rounded up to the minute above one minute)."""
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 60:
        return f"{seconds}s"
    minutes = -(-seconds // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days}d{hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h{minutes}m" if minutes else f"{hours}h"
    return f"{minutes}m"


def short_sha(sha: str) -> str:
    return sha[:12]


def _checks_reason(state: CheckState | None, sha: str) -> tuple[str, bool]:
    """(why the checks gate is closed, whether that is final until someone acts)."""
    commit = short_sha(sha)
    match state:
        case CheckState.SUCCESS:
            return "", False
        case CheckState.FAILURE:
            return f"checks failed on {commit}", True
        case CheckState.PENDING:
            return f"waiting for checks on {commit} (pending)", True
        case _:
            return f"waiting for checks on {commit} (none reported)", True


def gate(stage: Stage, entry: Entry, *, now: datetime, checks: CheckState | None) -> Verdict:
    """The verdict for promoting `entry` (an upstream version) into `stage` at `now`.

    Soak counts from `entry.since`: when the commit that put the version on the base branch
    landed there (its committer time: the merge, not the authoring).
    """
    reasons: list[str] = []
    known = True
    if stage.hold is not None:
        reasons.append(f"held: {stage.hold}" if stage.hold else "held")
        known = False
    earliest = now
    if stage.soak is not None:
        soaked = entry.since + stage.soak
        if soaked > now:
            reasons.append(f"waiting for soak, {short_duration(soaked - now)} left")
            earliest = soaked
    if stage.checks:
        why, final = _checks_reason(checks, entry.commit.sha)
        if why:
            reasons.append(why)
            known = known and not final
    opens = stage.calendar.next_open(earliest)
    if opens is None:
        reasons.append("its window never opens")
        known = False
    elif opens > earliest or not stage.calendar.is_open(earliest):
        closed = stage.calendar.closed_because(earliest)
        when = opens.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
        reasons.append(f"{closed or 'closed'}; opens {when}")
    if not reasons:
        return Verdict(ready=True)
    return Verdict(ready=False, reason="; ".join(reasons), opens_at=opens if known else None)


def all_of(verdicts: Sequence[Verdict]) -> Verdict:
    """Ready when every verdict is; else the reasons together, opening when the last opens."""
    waiting = [v for v in verdicts if not v.ready]
    if not waiting:
        return Verdict(ready=True)
    reason = "; ".join(dict.fromkeys(v.reason for v in waiting))
    times = [v.opens_at for v in waiting]
    opens = None if any(t is None for t in times) else max(t for t in times if t is not None)
    return Verdict(ready=False, reason=reason, opens_at=opens)
