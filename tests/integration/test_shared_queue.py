"""The shared queue on a real PostgreSQL: a dead replica's pass is taken over even when another
replica's tick queued the same repository meanwhile (the queueing lock they share); what a
queued pass is told about its period's listings, and which passes count for a period.

The replicas' passes are the injected runner (`tests/unit/service/test_runner.py`); the
queue, its jobs and the period records are real."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from procrastinate.exceptions import UniqueViolation
from procrastinate.jobs import Job
from procrastinate.manager import JobManager

from image_bot.config import Config, ScheduleSpec
from image_bot.model import ImageName, Trigger
from image_bot.report import RepositoryReport, RunReport
from image_bot.service.metrics import Metrics
from image_bot.service.pass_results import PassOutcome
from image_bot.service.runner import Service
from image_bot.service.shared_queue import QUEUE, PassRequest, SharedQueue, put_back
from image_bot.service.shared_status import SharedStatuses
from image_bot.service.status import RepositoryStatus, ServiceState
from image_bot.state import StateStore
from tests.unit.service.test_runner import Runner, make_config, wait_for

pytestmark = [pytest.mark.integration]

LEASE = timedelta(seconds=30)
TICK = PassRequest(("org/r",), "scheduled", schedule=ScheduleSpec(interval=timedelta(hours=1)))


def test_a_waiting_pass_gives_way_to_the_dead_replicas_one(postgres_url: str) -> None:
    with StateStore.at_url(postgres_url) as store:
        queue = SharedQueue(postgres_url, store, holder="test", lease=LEASE, concurrency=1)
        app = queue.app
        manager = app.job_manager
        app.open()  # the synchronous side, as `SharedQueue.start` opens it

        async def scenario() -> tuple[int, datetime]:
            async with app.open_async():  # the worker's side
                assert await asyncio.to_thread(queue.enqueue, TICK) == ["org/r"]
                assert await asyncio.to_thread(queue.enqueue, TICK) == []  # folded: it waits
                worker = await manager.register_worker()
                running = await manager.fetch_job([QUEUE], worker_id=worker)
                assert running is not None and running.id is not None
                # its replica dies; meanwhile another tick queues the repository again
                assert await asyncio.to_thread(queue.enqueue, TICK) == ["org/r"]
                (stalled,) = await manager.get_stalled_jobs(queue=QUEUE, seconds_since_heartbeat=0)
                assert stalled.id == running.id
                before = datetime.now(UTC)
                assert await put_back(manager, stalled, LEASE)
                jobs = await manager.list_jobs_async(queue=QUEUE)
                assert [(job.id, job.status) for job in jobs] == [(running.id, "todo")]
                (job,) = jobs
                assert job.scheduled_at is not None
                return running.id, job.scheduled_at - before

        try:
            _, delay = asyncio.run(scenario())
        finally:
            app.close()
        assert delay >= LEASE  # startable once the dead replica's repository lease lapsed


class SawTheWaitingPass:
    """A replica's job manager whose first retry met the pass another replica's tick had
    queued (UniqueViolation), as it does when two replicas put one stalled job back at the
    same moment and the other one has not made way for it yet."""

    def __init__(self, manager: JobManager) -> None:
        self.manager = manager
        self.first = True

    async def retry_job(self, job: Job, retry_at: datetime) -> None:
        if self.first:
            self.first = False
            raise UniqueViolation(
                constraint_name="procrastinate_jobs_queueing_lock_idx_v1",
                queueing_lock=job.queueing_lock,
            )
        await self.manager.retry_job(job, retry_at=retry_at)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.manager, name)


def test_two_replicas_putting_one_dead_pass_back_keep_it(postgres_url: str) -> None:
    """The job is put back once; the later replica neither fails nor deletes it (it once
    deleted it as the waiting pass it had to make way for: the repository went unpassed)."""
    with StateStore.at_url(postgres_url) as store:
        queue = SharedQueue(postgres_url, store, holder="test", lease=LEASE, concurrency=1)
        app = queue.app
        manager = app.job_manager
        app.open()

        async def scenario() -> tuple[bool, bool, bool, list[tuple[int | None, str | None]]]:
            async with app.open_async():
                assert await asyncio.to_thread(queue.enqueue, TICK) == ["org/r"]
                worker = await manager.register_worker()
                running = await manager.fetch_job([QUEUE], worker_id=worker)
                assert running is not None
                assert await asyncio.to_thread(queue.enqueue, TICK) == ["org/r"]  # waits
                (stalled,) = await manager.get_stalled_jobs(queue=QUEUE, seconds_since_heartbeat=0)
                first = await put_back(manager, stalled, LEASE)  # makes way, puts it back
                late = await put_back(SawTheWaitingPass(manager), stalled, LEASE)  # type: ignore[arg-type]
                again = await put_back(manager, stalled, LEASE)  # a plain retry of it, late
                jobs = await manager.list_jobs_async(queue=QUEUE)
                return first, late, again, [(job.id, job.status) for job in jobs]

        try:
            first, late, again, jobs = asyncio.run(scenario())
        finally:
            app.close()
        assert (first, late, again) == (True, False, False)
        assert len(jobs) == 1
        assert jobs[0][1] == "todo"  # the dead replica's pass, waiting for its lease to lapse


class HeldOnce(Runner):
    """The first pass finds the repository held by another process (its lease)."""

    def __call__(
        self, config: Config, rebuild: frozenset[tuple[str, int]], since: datetime | None
    ) -> PassOutcome:
        outcome = super().__call__(config, rebuild, since)
        if len(self.calls) > 1:
            return outcome
        (repo,) = config.repositories
        held = RepositoryReport(repo.url, repo.base, held_by="replica-2/42")
        return PassOutcome(RunReport(repositories=(held,)))


@contextmanager
def _replicas(
    url: str, runner: Runner, *names: str, shared_statuses: bool = False
) -> Iterator[tuple[Service, SharedQueue]]:
    """A started replica (its service, queue and worker), and another replica's door to the
    queue (its ticks), on one PostgreSQL state; the replica passes `names` (default
    `org/r`, every hour, as TICK) and, with `shared_statuses`, records its passes' statuses
    in the state."""
    config = make_config(*(names or ("org/r",)))
    with StateStore.at_url(url) as store, StateStore.at_url(url) as other_store:
        queue = SharedQueue(url, store, holder="replica-1", lease=LEASE, concurrency=1)
        state = ServiceState(shared=SharedStatuses(store) if shared_statuses else None)
        service = Service(lambda: config, runner, state=state, metrics=Metrics(), shared=queue)
        other = SharedQueue(url, other_store, holder="replica-2", lease=LEASE, concurrency=1)
        other.app.open()
        try:
            yield service, other
        finally:
            service.stop()
            other.app.close()


def test_a_scheduled_pass_shares_its_periods_listings_and_a_webhook_waits_for_none(
    postgres_url: str,
) -> None:
    runner = Runner()
    with _replicas(postgres_url, runner) as (service, other):
        before = datetime.now(UTC)
        service.start()  # its first tick queues org/r
        wait_for(lambda: len(runner.calls) == 1, timeout=30)
        # listings stored since that tick serve (the hour's other passes listed them), not
        # ones from earlier in the hour: the tick is bounded by the hour's start and now
        (since,) = runner.listings_since
        assert since is not None and before <= since <= datetime.now(UTC)
        other.enqueue(PassRequest(("org/r",), "push"))  # a webhook's pass: listed afresh
        wait_for(lambda: len(runner.calls) == 2, timeout=30)
        assert runner.listings_since[1] is None


def test_a_job_queued_late_in_its_period_shares_only_listings_since_its_tick(
    postgres_url: str,
) -> None:
    runner = Runner()
    with _replicas(postgres_url, runner) as (service, other):
        now = datetime.now(UTC)
        hour = now.replace(minute=0, second=0, microsecond=0)
        # another replica's tick of this hour, fired at its start, queued the pass
        assert other.enqueue(dataclasses.replace(TICK, at=hour)) == ["org/r"]
        service.start()  # its own tick folds into the waiting job
        wait_for(lambda: len(runner.calls) == 1, timeout=30)
        assert runner.listings_since == [hour]  # the queueing tick's time, not the job's start


@pytest.mark.slow
def test_a_tick_folded_into_a_waiting_webhook_job_is_passed_by_that_job(
    postgres_url: str,
) -> None:
    runner = Runner()
    with _replicas(postgres_url, runner) as (service, other):
        assert other.enqueue(PassRequest(("org/r",), "push", debounce=True)) == ["org/r"]
        service.start()  # its first tick folds into the waiting push (one queueing lock)
        wait_for(lambda: len(runner.calls) == 1, timeout=30)  # the push's, 10 s later
        assert runner.listings_since == [None]
        wait_for(lambda: _idle(other), timeout=10)  # the job is over (and deleted)
        # the push's pass started in this hour: it is the hour's pass, for every replica
        assert other.enqueue(TICK) == []
    assert len(runner.calls) == 1


def test_a_pass_turned_away_by_another_lease_leaves_its_period_open(postgres_url: str) -> None:
    runner = HeldOnce()
    with _replicas(postgres_url, runner) as (service, other):
        service.start()
        wait_for(lambda: len(runner.calls) == 1, timeout=30)  # held by replica-2: skipped
        wait_for(lambda: _idle(other), timeout=10)
        assert other.enqueue(TICK) == ["org/r"]  # the next tick queues it again
        wait_for(lambda: len(runner.calls) == 2, timeout=30)  # passed now
        wait_for(lambda: _idle(other), timeout=10)
        assert other.enqueue(TICK) == []  # and recorded as passed
    assert len(runner.calls) == 2


def _idle(queue: SharedQueue) -> bool:
    """No job waits or runs: a finished job is deleted once its pass is recorded."""
    return not queue.app.job_manager.list_jobs(queue=QUEUE)


def test_a_pushed_image_queues_only_the_repositories_whose_passes_found_it(
    postgres_url: str,
) -> None:
    """Which repositories use an image comes from every replica's passes (the shared
    statuses), read in the queue's thread, not the webhook's request."""
    runner = Runner()  # its passes find nginx everywhere, and quay.io/x/y in acme/apps only
    names = ("acme/apps", "acme/infra", "acme/edge")
    with (
        _replicas(postgres_url, runner, *names, shared_statuses=True) as (service, other),
        StateStore.at_url(postgres_url) as another,
    ):
        service.start()
        wait_for(lambda: len(runner.calls) == 3, timeout=30)  # one job per repository
        wait_for(lambda: _idle(other), timeout=10)
        # another replica's view: the statuses the first one recorded in the state
        seen = ServiceState(shared=SharedStatuses(another))
        for name in names:
            seen.put_if_absent(RepositoryStatus(name))
        assert {status.uses for status in seen.repositories()} == {
            ("docker.io/library/nginx", "quay.io/x/y"),
            ("docker.io/library/nginx",),
        }
        # the queue's one thread works the pushes out in turn: once the second one's job
        # is there, the first one (an image nobody uses) queued whatever it queues
        service.trigger(Trigger(images=(ImageName("ghcr.io", "acme/none"),), reason="push"))
        service.trigger(Trigger(images=(ImageName("quay.io", "x/y"),), reason="push"))
        wait_for(lambda: not _idle(other), timeout=10)
        jobs = other.app.job_manager.list_jobs(queue=QUEUE)
        assert [job.task_kwargs["repository"] for job in jobs] == ["acme/apps"]
