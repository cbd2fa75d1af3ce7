"""When promotions into a stage may open: a weekly window in a timezone, and freeze ranges.

A window is `days` (`mon-thu`, `mon,wed,fri`, `weekdays`, `*`) and `hours` (`09:00-16:00`,
`09:00-12:00,14:00-16:00`, `*`) in a zoneinfo `timezone`. A range whose end is before its
start runs over midnight (`22:00-02:00`): each part counts on the day it falls on. Freezes
are half-open `[start, end)` instants. Parsing errors are ValueError with a plain message (the
config turns them into errors naming file, line and field).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "Calendar",
    "Freeze",
    "Window",
    "freeze_between",
    "parse_days",
    "parse_hours",
    "zone",
]

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY_SETS = {"*": range(7), "daily": range(7), "weekdays": range(5), "weekends": range(5, 7)}
_MINUTES_PER_DAY = 24 * 60
_SEARCH_DAYS = 8  # a weekly window opens within a week, whatever the day
_MAX_STEPS = 1000  # freezes and windows alternating: each step moves strictly forward


def zone(name: str) -> ZoneInfo:
    """The zoneinfo timezone `name` (`Europe/Berlin`, `UTC`); ValueError when unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        msg = f"unknown timezone {name!r} (use a zoneinfo name such as Europe/Berlin or UTC)"
        raise ValueError(msg) from None


def _day(text: str) -> int:
    word = text.strip().lower()
    for index, name in enumerate(DAY_NAMES):
        if word in (name, _FULL_NAMES[index]):
            return index
    msg = f"unknown day {text.strip()!r} (use mon, tue, wed, thu, fri, sat, sun)"
    raise ValueError(msg)


def parse_days(text: str) -> frozenset[int]:
    """`mon-thu`, `mon,wed,fri`, `fri-mon` (wraps), `weekdays`, `weekends`, `*` -> weekdays
    (0 is Monday)."""
    days: set[int] = set()
    for part in text.split(","):
        word = part.strip().lower()
        if word in _DAY_SETS:
            days.update(_DAY_SETS[word])
            continue
        first, dash, last = word.partition("-")
        start = _day(first)
        end = _day(last) if dash else start
        day = start
        days.add(day)
        while day != end:
            day = (day + 1) % 7
            days.add(day)
    return frozenset(days)


def _minute(text: str, *, end: bool) -> int:
    hours, colon, minutes = text.strip().partition(":")
    try:
        hour, minute = int(hours), int(minutes) if colon else 0
    except ValueError:
        msg = f"not a time of day: {text.strip()!r} (write HH:MM)"
        raise ValueError(msg) from None
    if hour == 24 and minute == 0 and end:
        return _MINUTES_PER_DAY
    if not (0 <= hour < 24 and 0 <= minute < 60):
        msg = f"not a time of day: {text.strip()!r} (00:00 to 24:00)"
        raise ValueError(msg)
    return hour * 60 + minute


def parse_hours(text: str) -> tuple[tuple[int, int], ...]:
    """`09:00-16:00`, `09:00-12:00,14:00-16:00`, `22:00-02:00`, `*` -> (start, end) minutes
    since midnight; `end` < `start` runs over midnight. An empty range is an error."""
    if text.strip() in ("*", ""):
        return ((0, _MINUTES_PER_DAY),)
    ranges = []
    for part in text.split(","):
        first, dash, last = part.partition("-")
        if not dash:
            msg = f"not a range of hours: {part.strip()!r} (write 09:00-16:00)"
            raise ValueError(msg)
        start, stop = _minute(first, end=False), _minute(last, end=True)
        if start == stop:
            msg = f"the range {part.strip()!r} is empty: it never opens"
            raise ValueError(msg)
        ranges.append((start, stop))
    return tuple(ranges)


@dataclass(frozen=True, slots=True)
class Window:
    """Weekly opening hours in a timezone; `text` is how the user wrote it (for messages)."""

    days: frozenset[int]
    hours: tuple[tuple[int, int], ...]
    timezone: str = "UTC"
    text: str = ""

    def _spans(self, day: date) -> list[tuple[datetime, datetime]]:
        """The open intervals (local, aware) that fall on `day`."""
        tz = zone(self.timezone)
        if day.weekday() not in self.days:
            return []
        midnight = datetime.combine(day, time(), tz)
        spans = []
        for start, stop in self.hours:
            parts = [(start, stop)] if start < stop else [(start, _MINUTES_PER_DAY), (0, stop)]
            spans += [
                (midnight + timedelta(minutes=a), midnight + timedelta(minutes=b))
                for a, b in parts
                if a < b
            ]
        return spans

    def is_open(self, at: datetime) -> bool:
        """Whether the window is open at `at` (an aware datetime)."""
        local = at.astimezone(zone(self.timezone))
        return any(a <= local < b for a, b in self._spans(local.date()))

    def next_open(self, at: datetime) -> datetime | None:
        """`at` if open, else the next moment the window opens (None: it never does)."""
        local = at.astimezone(zone(self.timezone))
        starts = [
            max(a, local)
            for offset in range(_SEARCH_DAYS)
            for a, b in self._spans(local.date() + timedelta(days=offset))
            if b > local
        ]
        return min(starts).astimezone(UTC) if starts else None

    def describe(self) -> str:
        """How the window reads in messages: `mon-thu 09:00-16:00 Europe/Berlin`."""
        return self.text or f"{len(self.days)} days a week, {self.timezone}"


@dataclass(frozen=True, slots=True)
class Freeze:
    """No promotion from `start` (inclusive) to `end` (exclusive)."""

    start: datetime
    end: datetime
    reason: str = ""

    def covers(self, at: datetime) -> bool:
        return self.start <= at < self.end


@dataclass(frozen=True, slots=True)
class Calendar:
    """A stage's window (None: always) and its freezes."""

    window: Window | None = None
    freezes: tuple[Freeze, ...] = ()

    def is_open(self, at: datetime) -> bool:
        """Open at `at`: inside the window and no freeze."""
        if any(freeze.covers(at) for freeze in self.freezes):
            return False
        return self.window is None or self.window.is_open(at)

    def next_open(self, at: datetime) -> datetime | None:
        """The first moment at or after `at` when the calendar is open (None: never)."""
        moment: datetime | None = at
        for _ in range(_MAX_STEPS):
            if moment is None:
                return None
            frozen = [freeze.end for freeze in self.freezes if freeze.covers(moment)]
            if frozen:
                moment = max(frozen)
                continue
            if self.window is not None and not self.window.is_open(moment):
                moment = self.window.next_open(moment)
                continue
            return moment
        return None

    def closed_because(self, at: datetime) -> str:
        """Why the calendar is closed at `at` ("" when it is open)."""
        for freeze in self.freezes:
            if freeze.covers(at):
                until = freeze.end.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
                why = f": {freeze.reason}" if freeze.reason else ""
                return f"frozen until {until}{why}"
        if self.window is not None and not self.window.is_open(at):
            return f"outside the window {self.window.describe()}"
        return ""


def freeze_between(
    start: date | datetime, end: date | datetime, timezone: str, reason: str = ""
) -> Freeze:
    """A Freeze from config values: a date starts at its midnight and an end date is
    inclusive (frozen through that day); a naive datetime is in `timezone`."""
    tz = zone(timezone)

    def instant(value: date | datetime, *, inclusive_end: bool) -> datetime:
        if isinstance(value, datetime):
            return value if value.tzinfo else value.replace(tzinfo=tz)
        day = value + timedelta(days=1) if inclusive_end else value
        return datetime.combine(day, time(), tz)

    return Freeze(instant(start, inclusive_end=False), instant(end, inclusive_end=True), reason)
