"""GitHub write turns shared through a real PostgreSQL state (`state.write_slots`).

Processes (real ones, and connections of their own) book turns for one API: no two turns are
closer than the interval, whoever booked them; another API never waits on the first; a
process asleep until its turn, or killed in that sleep, holds nothing that makes others wait
longer than its one turn; and a database that fails leaves each process its own spacing.
Slot times are the database's, read from the bookings: nothing here asserts on sleeps.
"""

from __future__ import annotations

import itertools
import logging
import signal
import subprocess  # noqa: TID251 (the writers are processes)
import sys
import threading
from contextlib import closing

import pytest

from image_bot.publish.forges.github.spacing import WriteSpacing
from image_bot.state import StateError
from image_bot.state.database import Database
from image_bot.state.postgres import PostgresDatabase
from image_bot.state.write_slots import MAX_BACKLOG, SharedWriteSpacing, WriteSlots

API = "https://api.github.com"
EPSILON = 1e-5  # epoch seconds as float8: microseconds, give or take rounding

_BOOKER = """
import sys
from contextlib import closing
from image_bot.state.write_slots import WriteSlots
url, api, interval, count = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
with closing(WriteSlots(url)) as slots:
    print("ready", flush=True)
    sys.stdin.readline()  # start together
    for _ in range(count):
        print(slots.book(api, interval).starts_at, flush=True)
"""

_SLEEPER = """
import sys
from image_bot.publish.forges.github.spacing import WriteSpacing
from image_bot.state.write_slots import WriteSlots
url, api = sys.argv[1], sys.argv[2]
slots = WriteSlots(url)
spacing = slots.spacing(api, WriteSpacing(2.0))
spacing.wait()  # the first turn: now
print("waiting", flush=True)
spacing.wait()  # the second: 2 s later, asleep meanwhile (killed here)
print("woke", flush=True)
"""


def _python(code: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _gaps(starts: list[float]) -> list[float]:
    ordered = sorted(starts)
    return [later - earlier for earlier, later in itertools.pairwise(ordered)]


def test_two_processes_never_get_turns_closer_than_the_interval(postgres_url: str) -> None:
    interval, count = 0.05, 15
    writers = [_python(_BOOKER, postgres_url, API, str(interval), str(count)) for _ in range(2)]
    for writer in writers:
        assert writer.stdout is not None
        assert writer.stdout.readline().strip() == "ready", writer.stderr
    for writer in writers:
        assert writer.stdin is not None
        writer.stdin.write("go\n")
        writer.stdin.flush()
    starts: list[list[float]] = []
    for writer in writers:
        stdout, stderr = writer.communicate(timeout=60)
        assert writer.returncode == 0, stderr
        starts.append([float(line) for line in stdout.split()])
    assert [len(mine) for mine in starts] == [count, count]
    assert min(_gaps(starts[0] + starts[1])) >= interval - EPSILON
    # each process alone would have been 1 interval apart too, but together they interleave
    # or follow one another: 2 x count turns span at least (2 x count - 1) intervals
    every = sorted(starts[0] + starts[1])
    assert every[-1] - every[0] >= (2 * count - 1) * interval - EPSILON


def test_another_api_does_not_wait_on_a_busy_one(postgres_url: str) -> None:
    with closing(WriteSlots(postgres_url)) as slots:
        busy = [slots.book(API, 30.0) for _ in range(3)]
        assert busy[-1].wait > 50  # the third turn of the busy API is a minute away
        other = slots.book("https://ghe.example.com/api/v3", 30.0)
    assert other.wait == 0
    assert abs(other.starts_at - busy[0].starts_at) < 30  # now, not after the busy ones


def test_no_lock_is_held_while_a_process_waits_for_its_turn(postgres_url: str) -> None:
    asleep, wake = threading.Event(), threading.Event()
    waits: list[float] = []

    def sleep(seconds: float) -> None:  # the waiter's sleep: it stays asleep until told
        waits.append(seconds)
        asleep.set()
        wake.wait(timeout=30)

    with closing(WriteSlots(postgres_url)) as mine, closing(WriteSlots(postgres_url)) as theirs:
        first = mine.book(API, 5.0)
        waiter = SharedWriteSpacing(mine, API, WriteSpacing(5.0), sleep=sleep)
        waiting = threading.Thread(target=waiter.wait)
        waiting.start()
        assert asleep.wait(timeout=30)
        booked: list[float] = []
        other = threading.Thread(target=lambda: booked.append(theirs.book(API, 5.0).starts_at))
        other.start()
        other.join(timeout=15)  # a lock held across the sleep would block this booking
        blocked = other.is_alive()
        wake.set()
        waiting.join(timeout=30)
        other.join(timeout=30)
    assert not blocked, "booking waited for a sleeping process"
    # the waiter slept for its turn, the second: at most one interval after the first (how
    # much less depends on how long its thread took to book, so no lower bound but 0)
    assert 0.0 < waits[0] <= 5.0
    assert booked[0] == pytest.approx(first.starts_at + 10.0, abs=EPSILON)


def test_a_process_killed_before_its_turn_costs_others_only_that_turn(postgres_url: str) -> None:
    sleeper = _python(_SLEEPER, postgres_url, API)
    assert sleeper.stdout is not None
    assert sleeper.stdout.readline().strip() == "waiting", sleeper.communicate()[1]
    sleeper.send_signal(signal.SIGKILL)
    stdout, _ = sleeper.communicate(timeout=10)
    assert "woke" not in stdout  # killed in its sleep
    with closing(WriteSlots(postgres_url)) as slots:
        after = slots.book(API, 2.0)
    # the dead process booked turns at t and t + 2; the next is t + 4, at most 4 s away
    assert after.wait <= 4.0 + EPSILON
    with closing(WriteSlots(postgres_url)) as slots:
        assert slots.book(API, 2.0).starts_at == pytest.approx(after.starts_at + 2.0, abs=EPSILON)


def test_a_slot_pushed_far_ahead_is_not_waited_for(postgres_url: str) -> None:
    with closing(WriteSlots(postgres_url)) as slots:
        slots.book(API, 1.0)
        db = PostgresDatabase(postgres_url)
        try:  # the database's clock stepped back a day after this slot was booked
            db.execute("UPDATE write_slots SET next_at = clock_timestamp() + interval '1 day'")
        finally:
            db.close()
        late = slots.book(API, 1.0)
        after = slots.book(API, 1.0)
    assert late.wait == 0  # not a day, nor the backlog bound: booking starts again from now
    assert after.starts_at == pytest.approx(late.starts_at + 1.0, abs=EPSILON)
    assert after.wait <= 1.0


def test_a_backlog_within_the_bound_is_kept(postgres_url: str) -> None:
    with closing(WriteSlots(postgres_url)) as slots:
        first = slots.book(API, MAX_BACKLOG / 2)
        slots.book(API, MAX_BACKLOG / 2)
        third = slots.book(API, MAX_BACKLOG / 2)  # its slot is a whole bound ahead: still kept
    assert third.starts_at == pytest.approx(first.starts_at + MAX_BACKLOG, abs=EPSILON)


def test_a_failing_database_leaves_each_process_its_own_spacing(
    postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    attempts: list[str] = []

    def connect(url: str) -> Database:
        attempts.append(url)
        return PostgresDatabase(url)

    gone = postgres_url.replace("/test_", "/missing_", 1)
    own_sleeps: list[float] = []
    own = WriteSpacing(1.0, clock=lambda: 100.0, sleep=own_sleeps.append)
    shared_sleeps: list[float] = []
    spacing = SharedWriteSpacing(
        WriteSlots(gone, connect=connect), API, own, sleep=shared_sleeps.append
    )
    with caplog.at_level(logging.WARNING, logger="image_bot.state.write_slots"):
        spacing.wait()
        spacing.wait()
    assert own_sleeps == [1.0]  # the second write waited for its own turn
    assert shared_sleeps == []
    assert len(attempts) == 1  # the database is not asked again at every write
    assert "spacing this process's writes only" in caplog.text
    with pytest.raises(StateError):
        WriteSlots(gone).book(API, 1.0)
