"""Windows and freezes: when promotions open, in the stage's timezone."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from image_bot.promote.calendar import Calendar, Window, freeze_between, parse_days, parse_hours

BERLIN_WEEKDAYS = Window(parse_days("mon-thu"), parse_hours("09:00-16:00"), "Europe/Berlin")


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("mon-thu", {0, 1, 2, 3}),
        ("fri-mon", {4, 5, 6, 0}),
        ("mon,wed,Friday", {0, 2, 4}),
        ("weekdays", {0, 1, 2, 3, 4}),
        ("*", set(range(7))),
    ],
)
def test_days(text: str, days: set[int]) -> None:
    assert parse_days(text) == days


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("09:00-09:00", "never opens"),
        ("9-25:00", "not a time of day"),
        ("09:00", "not a range"),
    ],
)
def test_bad_hours(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_hours(text)


def test_a_window_opens_in_its_own_timezone() -> None:
    # Monday 2026-12-07: 08:30 UTC is 09:30 in Berlin (CET, +1)
    assert BERLIN_WEEKDAYS.is_open(datetime(2026, 12, 7, 8, 30, tzinfo=UTC))
    assert not BERLIN_WEEKDAYS.is_open(datetime(2026, 12, 7, 7, 30, tzinfo=UTC))
    # Thursday 16:00 Berlin closes; the next opening is Monday 09:00 Berlin = 08:00 UTC
    thursday_evening = datetime(2026, 12, 10, 15, 0, tzinfo=UTC)
    assert not BERLIN_WEEKDAYS.is_open(thursday_evening)
    assert BERLIN_WEEKDAYS.next_open(thursday_evening) == datetime(2026, 12, 14, 8, 0, tzinfo=UTC)


def test_hours_over_midnight() -> None:
    night = Window(parse_days("*"), parse_hours("22:00-02:00"), "UTC")
    assert night.is_open(datetime(2026, 12, 7, 23, 0, tzinfo=UTC))
    assert night.is_open(datetime(2026, 12, 8, 1, 59, tzinfo=UTC))
    assert not night.is_open(datetime(2026, 12, 8, 2, 0, tzinfo=UTC))


def test_a_freeze_closes_the_window_and_ends_after_its_last_day() -> None:
    freeze = freeze_between(date(2026, 12, 20), date(2027, 1, 6), "Europe/Berlin", "year end")
    calendar = Calendar(BERLIN_WEEKDAYS, (freeze,))
    christmas = datetime(2026, 12, 22, 10, 0, tzinfo=UTC)
    assert not calendar.is_open(christmas)
    assert "frozen until 2027-01-06 23:00 UTC: year end" in calendar.closed_because(christmas)
    # Jan 7 2027 is a Thursday: 09:00 Berlin
    assert calendar.next_open(christmas) == datetime(2027, 1, 7, 8, 0, tzinfo=UTC)
