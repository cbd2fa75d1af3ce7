"""The periods of a schedule: which one a moment belongs to, the same on every replica.

A period runs from one interval slot (counted since the epoch) or cron fire time to the
next. Replicas sharing a queue pass each repository once per period (`shared_queue`), and
the passes of one period share their tag listings (`PassOptions.listings_since`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from apscheduler.triggers.cron import CronTrigger

from image_bot.config import ScheduleSpec
from image_bot.service.schedules import trigger_for

__all__ = ["period_of", "period_start"]

_LOOK_BACK = timedelta(days=1500)  # more than four years: Feb 29 fires in it


def period_of(schedule: ScheduleSpec, now: datetime) -> str:
    """The name of the period `now` belongs to (a tick's, or a pass's start)."""
    began = period_start(schedule, now)
    if schedule.interval is not None:
        seconds = schedule.interval.total_seconds()
        return f"every {int(seconds)}s #{int(began.timestamp() // seconds)}"
    return f"cron {schedule.cron} @{began.isoformat()}"


def period_start(schedule: ScheduleSpec, now: datetime) -> datetime:
    """When the period `now` belongs to began: the start of its interval slot, or the last
    cron fire time at or before `now` (a tick is at most `jitter` after it). A cron
    expression that did not fire in the four years before `now`, or never fires, makes
    `now` a period of its own."""
    if schedule.interval is not None:
        seconds = schedule.interval.total_seconds()
        return datetime.fromtimestamp(now.timestamp() // seconds * seconds, UTC)
    trigger = trigger_for(schedule.model_copy(update={"jitter": timedelta(0)}))
    assert isinstance(trigger, CronTrigger)  # noqa: S101  (a cron schedule makes a CronTrigger)
    back = timedelta(minutes=1)
    while back <= _LOOK_BACK:  # widen the look back until a fire time falls in it
        fired = _next_fire(trigger, now - back)
        if fired is None:  # it never fires (February 30)
            return now
        if fired <= now:
            while (later := _next_fire(trigger, fired + timedelta(seconds=1))) and later <= now:
                fired = later
            return fired
        back *= 2
    return now


def _next_fire(trigger: CronTrigger, earliest: datetime) -> datetime | None:
    fired: datetime | None = trigger.get_next_fire_time(None, earliest)
    return fired
