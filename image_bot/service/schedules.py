"""`ScheduleSpec` -> APScheduler trigger, with crontab's day-of-week meaning kept.

APScheduler 3 numbers weekdays from Monday (0 = Monday) while crontab numbers them from
Sunday (0 and 7 = Sunday), so `0 6 * * 1-5` would silently run Tuesday to Saturday. Numeric
day-of-week fields are therefore rewritten as day names, which mean the same in both.
"""

from __future__ import annotations

from datetime import UTC

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from image_bot.config import ScheduleSpec
from image_bot.errors import ConfigError

__all__ = ["crontab_day_of_week", "trigger_for"]

_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")  # crontab order: 0 = Sunday
_FIELD = "service.schedule.cron"


def _day(text: str) -> int:
    lowered = text.lower()
    if lowered in _NAMES:
        return _NAMES.index(lowered)
    if text.isdigit() and int(text) <= 7:
        return int(text) % 7
    raise ConfigError(f"not a day of the week: {text!r}", field=_FIELD)


def _days(part: str) -> list[int]:
    span, _, step_text = part.partition("/")
    step = int(step_text) if step_text.isdigit() and int(step_text) > 0 else None
    if step_text and step is None:
        raise ConfigError(f"bad step in day of week: {part!r}", field=_FIELD)
    if span == "*":
        first, last = 0, 6
    elif "-" in span:
        start, _, end = span.partition("-")
        first, last = _day(start), _day(end)
        if end == "7":
            last = 7  # `5-7` is Friday to Sunday
    else:
        first = _day(span)
        last = 6 if step else first
    if last < first:
        raise ConfigError(f"day range runs backwards: {part!r}", field=_FIELD)
    return [day % 7 for day in range(first, last + 1, step or 1)]


def crontab_day_of_week(field: str) -> str:
    """A crontab day-of-week field as APScheduler day names (`1-5` -> `mon,tue,wed,thu,fri`)."""
    if field in ("*", "?"):
        return "*"
    days = sorted({day for part in field.split(",") for day in _days(part)})
    return ",".join(_NAMES[day] for day in days)


def trigger_for(schedule: ScheduleSpec) -> BaseTrigger:
    """The APScheduler trigger of `schedule` (UTC, with its jitter)."""
    jitter = int(schedule.jitter.total_seconds()) or None
    if schedule.cron is not None:
        fields = schedule.cron.split()
        if len(fields) != 5:
            raise ConfigError("a cron expression has 5 fields", field=_FIELD)
        minute, hour, day, month, day_of_week = fields
        try:
            return CronTrigger(
                minute=minute,
                hour=hour,
                day=day,
                month=month,
                day_of_week=crontab_day_of_week(day_of_week),
                timezone=UTC,
                jitter=jitter,
            )
        except ValueError as error:
            raise ConfigError(f"bad cron expression: {error}", field=_FIELD) from None
    if schedule.interval is None:
        raise ConfigError("give interval or cron", field="service.schedule")
    return IntervalTrigger(seconds=schedule.interval.total_seconds(), timezone=UTC, jitter=jitter)
