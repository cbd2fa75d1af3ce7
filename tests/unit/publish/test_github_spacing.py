"""Writes of repositories worked on side by side take turns: one per interval among all."""

from __future__ import annotations

import threading

from image_bot.publish.forge_kind import KeptCredentials
from image_bot.publish.forges.github.spacing import WriteSpacing


class _Clock:
    """A clock that moves only when someone sleeps (thread-safe)."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []
        self.lock = threading.Lock()

    def time(self) -> float:
        with self.lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds > 0
        with self.lock:
            self.slept.append(seconds)


def test_each_writer_waits_for_its_own_turn() -> None:
    clock = _Clock()
    spacing = WriteSpacing(1.0, clock=clock.time, sleep=clock.sleep)
    threads = [threading.Thread(target=spacing.wait) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # the first goes at once, the others 1, 2, 3 and 4 seconds later: one write a second
    assert sorted(clock.slept) == [1.0, 2.0, 3.0, 4.0]


def test_a_writer_after_a_quiet_spell_goes_at_once() -> None:
    clock = _Clock()
    spacing = WriteSpacing(1.0, clock=clock.time, sleep=clock.sleep)
    spacing.wait()
    clock.now += 5
    spacing.wait()
    assert clock.slept == []


def test_the_forges_of_one_pass_share_one_spacing_per_github() -> None:
    kept = KeptCredentials()
    made: list[WriteSpacing] = []

    def make() -> WriteSpacing:
        made.append(WriteSpacing(1.0))
        return made[-1]

    got = []
    threads = [
        threading.Thread(target=lambda: got.append(kept.get(("spacing", "api"), make)))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(made) == 1
    assert all(spacing is made[0] for spacing in got)
