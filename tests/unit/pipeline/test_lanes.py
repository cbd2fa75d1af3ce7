"""Repositories side by side: at most `per_host` at once per forge host, results in order."""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest

from image_bot.pipeline.lanes import HostLanes


def test_each_host_runs_at_most_per_host_at_once_and_results_keep_their_order() -> None:
    hosts = ["github.com"] * 9 + ["gitlab.example.com"] * 6
    running: Counter[str] = Counter()
    most: Counter[str] = Counter()
    lock = threading.Lock()

    def work(index: int, host: str) -> int:
        with lock:
            running[host] += 1
            most[host] = max(most[host], running[host])
        time.sleep(0.02)
        with lock:
            running[host] -= 1
        return index * 10

    results = HostLanes(3).map(hosts, hosts, work)
    assert results == [index * 10 for index in range(len(hosts))]
    assert most == {"github.com": 3, "gitlab.example.com": 3}  # both hosts, side by side


def test_one_lane_on_one_host_runs_in_the_calling_thread() -> None:
    threads: set[str] = set()
    HostLanes(1).map(
        [1, 2, 3], ["h"] * 3, lambda _, __: threads.add(threading.current_thread().name)
    )
    assert threads == {threading.current_thread().name}


def test_a_failure_reaches_the_caller() -> None:
    def work(index: int, _: str) -> None:
        if index == 2:
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        HostLanes(2).map(["a", "b", "c"], ["h"] * 3, work)


def test_at_least_one_lane() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        HostLanes(0)
