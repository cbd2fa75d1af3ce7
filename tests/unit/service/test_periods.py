"""The periods of a schedule: every replica names the same one for a moment, and a pass that
starts later in it belongs to it too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from image_bot.config import ScheduleSpec
from image_bot.service.periods import period_of, period_start

NOW = datetime(2026, 12, 4, 12, 20, 5, tzinfo=UTC)  # a Friday


@pytest.mark.parametrize(
    ("schedule", "began"),
    [
        (ScheduleSpec(interval=timedelta(minutes=10)), datetime(2026, 12, 4, 12, 20, tzinfo=UTC)),
        (ScheduleSpec(interval=timedelta(days=1)), datetime(2026, 12, 4, tzinfo=UTC)),
        (ScheduleSpec(cron="0 * * * *"), datetime(2026, 12, 4, 12, tzinfo=UTC)),
        (ScheduleSpec(cron="*/7 * * * *"), datetime(2026, 12, 4, 12, 14, tzinfo=UTC)),
        (ScheduleSpec(cron="0 6 * * 1"), datetime(2026, 11, 30, 6, tzinfo=UTC)),  # Monday
        (ScheduleSpec(cron="0 0 29 2 *"), datetime(2024, 2, 29, tzinfo=UTC)),
        (ScheduleSpec(cron="0 0 30 2 *"), NOW),  # never fires: a period of its own
    ],
)
def test_a_period_begins_at_its_slot_or_its_last_fire_time(
    schedule: ScheduleSpec, began: datetime
) -> None:
    assert period_start(schedule, NOW) == began


def test_every_moment_of_a_period_names_it_and_the_next_one_is_another() -> None:
    for schedule, length in (
        (ScheduleSpec(interval=timedelta(minutes=10)), timedelta(minutes=10)),
        (ScheduleSpec(cron="0 * * * *", jitter=timedelta(minutes=5)), timedelta(hours=1)),
    ):
        began = period_start(schedule, NOW)
        name = period_of(schedule, began)
        # a tick (up to its jitter late) and a pass starting near the end share the period
        for offset in (timedelta(0), timedelta(minutes=4), length - timedelta(seconds=1)):
            assert period_of(schedule, began + offset) == name
        assert period_of(schedule, began + length) != name
        assert period_of(schedule, began - timedelta(seconds=1)) != name
