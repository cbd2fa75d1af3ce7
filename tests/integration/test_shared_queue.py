"""The shared queue on a real PostgreSQL: a dead replica's pass is taken over even when another
replica's tick queued the same repository meanwhile (the queueing lock they share)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from image_bot.config import ScheduleSpec
from image_bot.service.shared_queue import QUEUE, PassRequest, SharedQueue, put_back
from image_bot.state import StateStore

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
                await put_back(manager, stalled, LEASE)
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
