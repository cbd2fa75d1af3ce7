"""Schedules: crontab day-of-week meaning survives APScheduler's Monday-first numbering."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from image_bot.config import ScheduleSpec
from image_bot.errors import ConfigError
from image_bot.service.schedules import crontab_day_of_week, trigger_for

SATURDAY = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def fire_times(schedule: ScheduleSpec, count: int, start: datetime = SATURDAY) -> list[datetime]:
    trigger = trigger_for(schedule)
    times: list[datetime] = []
    previous, now = None, start
    for _ in range(count):
        fire = trigger.get_next_fire_time(previous, now)
        times.append(fire)
        previous, now = fire, fire + timedelta(seconds=1)
    return times


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("*", "*"),
        ("1-5", "mon,tue,wed,thu,fri"),
        ("0", "sun"),
        ("7", "sun"),
        ("5-7", "sun,fri,sat"),
        ("0,6", "sun,sat"),
        ("*/2", "sun,tue,thu,sat"),
        ("1-5/2", "mon,wed,fri"),
        ("mon-fri", "mon,tue,wed,thu,fri"),
        ("SUN", "sun"),
    ],
)
def test_crontab_day_of_week(field: str, expected: str) -> None:
    assert crontab_day_of_week(field) == expected


@pytest.mark.parametrize("field", ["8", "fri-mon", "5-2", "1/x", "funday"])
def test_bad_day_of_week_is_a_config_error(field: str) -> None:
    with pytest.raises(ConfigError):
        crontab_day_of_week(field)


def test_weekday_cron_runs_monday_to_friday_only() -> None:
    times = fire_times(ScheduleSpec(cron="0 6 * * 1-5"), 10)
    assert {time.strftime("%a") for time in times} == {"Mon", "Tue", "Wed", "Thu", "Fri"}
    assert all((time.hour, time.minute) == (6, 0) for time in times)
    assert times[0] == datetime(2026, 11, 23, 6, 0, tzinfo=UTC)  # the Monday after


def test_sunday_cron_runs_on_sunday() -> None:
    (first,) = fire_times(ScheduleSpec(cron="30 2 * * 0"), 1)
    assert first == datetime(2026, 11, 22, 2, 30, tzinfo=UTC)


def test_interval_schedule() -> None:
    times = fire_times(ScheduleSpec(interval=timedelta(minutes=10)), 3)
    assert [b - a for a, b in itertools.pairwise(times)] == [timedelta(minutes=10)] * 2


def test_jitter_spreads_within_its_bound() -> None:
    schedule = ScheduleSpec(interval=timedelta(minutes=10), jitter=timedelta(seconds=30))
    trigger = trigger_for(schedule)
    base = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
    offsets = {
        (trigger.get_next_fire_time(base, base + timedelta(seconds=1)) - base).total_seconds()
        for _ in range(40)
    }
    assert all(600 <= offset <= 630 for offset in offsets)
    assert len(offsets) > 1


def test_bad_cron_field_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="cron"):
        trigger_for(ScheduleSpec(cron="61 * * * *"))
