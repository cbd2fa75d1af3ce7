"""The work queue `serve` replicas share in PostgreSQL (procrastinate), one job per repository.

Each replica's APScheduler still decides *when*; what it decides becomes jobs "pass
repository R" in one queue that every replica's worker takes from:

- **Once per repository and period.** Every replica's scheduled tick enqueues each of its
  repositories with the period it belongs to (`service.periods`: the interval's slot since
  the epoch, or the cron fire time), unless the state records R as passed in that period
  already. Any job of R (a webhook's too) records `(R, period)` (`StateStore.first_times`)
  for the period of R's schedule it started in (and the one it was queued for) when its
  pass is over, and a job that starts and finds its period recorded does nothing. So a
  replica killed while it enqueues loses nothing (the other replicas' ticks enqueue the
  same repositories; the queueing lock folds them), a tick folded into a waiting webhook
  job is recorded by that job's pass, one killed during a pass leaves the period
  unrecorded for the take-over below, and the jobs of later ticks in the same period wait
  on R's lock and then find it passed. A pass turned away by another process's lease on R
  records nothing.
- **One listing per image and period.** A scheduled job's pass reuses the tag listings
  that passes which started since the tick that queued it stored in the state's tag cache
  (`PassOptions.listings_since`), as one pass lists each image once for all its
  repositories; a webhook's job lists afresh.
- **No pile-up.** Jobs of a repository share a queueing lock: while one waits, another is
  not added. Passes asked for by webhooks wait `debounce` (10 s) before they may start, so
  a burst of deliveries for R (a storm, redeliveries, a push per commit) is one pass.
- **One replica per repository.** Jobs of a repository share a lock, so procrastinate runs
  at most one of them at a time (`SELECT ... FOR UPDATE SKIP LOCKED` when fetching).
- **Take-over.** Workers send heartbeats every quarter of `lease`; a job whose worker has
  sent none for `lease` (the replica died) is put back in the queue, startable `lease`
  later: by then the repository's own lease (`state.leases`), which the dead replica
  renewed at most until it died, has expired too, so the replica taking it over is not
  turned away. A dead replica's repositories are thus passed again within about twice the
  lease (1.25 x lease to notice, 1 x lease for its repository leases to lapse).

Jobs that finished are deleted; a failed pass is reported by the pass itself, the job does
not fail.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from image_bot.config import ScheduleSpec
from image_bot.service.periods import period_of
from image_bot.state import StateStore

if TYPE_CHECKING:
    from procrastinate import App
    from procrastinate.jobs import Job
    from procrastinate.manager import JobManager
    from procrastinate.types import JSONValue

__all__ = [
    "PassDone",
    "PassJob",
    "PassRequest",
    "QueuedPass",
    "SharedDeliveries",
    "SharedQueue",
    "period_of",
    "put_back",
]

log = logging.getLogger(__name__)

QUEUE = "image-bot-passes"
TASK = "image_bot.pass_repository"
DEBOUNCE = timedelta(seconds=10)


def _passed(repository: str, period: str) -> str:
    """The state's record that `repository` was passed in `period`."""
    return f"pass {repository} {period}"


@dataclass(frozen=True, slots=True)
class QueuedPass:
    """A job of the queue: pass `repository` for `reason`, rebuilding the pull requests
    `rebuild`, re-loading the config first if `refresh`; `scheduled`: a scheduled tick's
    (its passes share tag listings within the period), not a webhook's (fresh listings);
    `queued_at`: when the tick that queued it fired (None: a job queued before it was kept)."""

    repository: str
    reason: str
    rebuild: tuple[int, ...] = ()
    refresh: bool = False
    scheduled: bool = False
    queued_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class PassDone:
    """How a queued pass went: `passed` False when another process held the repository
    (nothing was done); `period`: the period of the repository's schedule in which the
    pass started (None: it has none now), which it counts as passed."""

    passed: bool
    period: str | None


PassJob = Callable[[QueuedPass], PassDone]


@dataclass(frozen=True, slots=True)
class PassRequest:
    """Passes asked for: of `repositories`, for `reason`; `schedule`: a tick of it (at `at`,
    default now), passed once per period among replicas; `rebuild`: (repository, pull
    request) pairs to rebuild; `refresh`: re-load the config first; `debounce`: a webhook's,
    startable only `DEBOUNCE` later."""

    repositories: tuple[str, ...]
    reason: str
    schedule: ScheduleSpec | None = None
    rebuild: frozenset[tuple[str, int]] = frozenset()
    refresh: bool = False
    debounce: bool = False
    at: datetime | None = None


class SharedQueue:
    """One replica's door to the shared queue: enqueue, and a worker thread that runs jobs."""

    def __init__(
        self, url: str, store: StateStore, *, holder: str, lease: timedelta, concurrency: int
    ) -> None:
        from procrastinate import App, PsycopgConnector  # noqa: PLC0415  (the postgres extra)

        self._store = store
        self._holder = holder
        self._lease = lease.total_seconds()
        self._concurrency = concurrency
        self._app: App = App(connector=PsycopgConnector(conninfo=url))
        self._app.task(name=TASK, queue=QUEUE, pass_context=False)(self._perform)
        self._run: PassJob | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._worker: asyncio.Task[None] | None = None
        self._ready = threading.Event()
        self._enqueuer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="image-bot-enqueue")

    @property
    def app(self) -> App:
        """The procrastinate app this queue enqueues on and works from."""
        return self._app

    # --- enqueueing (any thread) ------------------------------------------------------------

    def enqueue_soon(
        self, request: PassRequest, *, narrow: Callable[[], Sequence[str]] | None = None
    ) -> None:
        """`enqueue` in this queue's own thread, returning at once: webhooks call it inside
        their request, on the web server's event loop, where the database must not be
        awaited synchronously. `narrow`, called in that thread too, names the repositories
        when working them out needs the database (those of a pushed image)."""
        request = dataclasses.replace(request, at=request.at or datetime.now(UTC))

        def enqueue() -> None:
            try:
                chosen = request
                if narrow is not None:
                    chosen = dataclasses.replace(request, repositories=tuple(narrow()))
                added = self.enqueue(chosen) if chosen.repositories else []
            except Exception:  # the database may be away: the next tick or delivery asks again
                log.exception("cannot queue passes", extra={"reason": request.reason})
                return
            log.info("passes queued", extra={"reason": request.reason, "repositories": len(added)})

        try:
            self._enqueuer.submit(enqueue)
        except RuntimeError:  # stopping: whatever is not queued now, the next start queues
            log.info("not queued: stopping", extra={"reason": request.reason})

    def enqueue(self, request: PassRequest) -> list[str]:
        """Add a job per repository of `request` (for a scheduled tick, those not passed in
        its period yet; debounced ones startable only `DEBOUNCE` from now); the repositories
        enqueued."""
        from procrastinate.exceptions import AlreadyEnqueued  # noqa: PLC0415

        names = list(dict.fromkeys(request.repositories))
        reason, refresh, debounce = request.reason, request.refresh, request.debounce
        period = queued_at = None
        if request.schedule is not None:
            at = request.at or datetime.now(UTC)
            period, queued_at = period_of(request.schedule, at), at.isoformat()
        wanted: dict[str, list[int]] = {}
        for repository, number in request.rebuild:
            wanted.setdefault(repository, []).append(number)
        added = []
        for name in names:
            if period is not None and self._store.seen(_passed(name, period)):
                continue  # passed in this period already, by whichever replica
            numbers: list[JSONValue] = [*sorted(wanted.get(name, ()))]
            # a rebuild request must not be folded into a waiting ordinary pass
            queueing_lock = f"{name} rebuild {numbers}" if numbers else name
            task = self._app.configure_task(
                TASK,
                lock=name,
                queueing_lock=queueing_lock,
                schedule_in={"seconds": DEBOUNCE.total_seconds()} if debounce else None,
            )
            try:
                task.defer(
                    repository=name,
                    reason=reason,
                    rebuild=numbers,
                    refresh=refresh,
                    period=period,
                    queued_at=queued_at,
                )
            except AlreadyEnqueued:
                continue  # a pass of it is waiting already: that one will do
            added.append(name)
        return added

    # --- working ----------------------------------------------------------------------------

    def _perform(  # procrastinate passes the job's arguments by name
        self,
        *,
        repository: str,
        reason: str,
        rebuild: list[int],
        refresh: bool,
        period: str | None = None,
        queued_at: str | None = None,
    ) -> None:
        if period is not None and self._store.seen(_passed(repository, period)):
            log.info("passed in this period already", extra={"repository": repository})
            return
        if self._run is None:
            return
        job = QueuedPass(
            repository,
            reason,
            tuple(rebuild),
            refresh,
            scheduled=period is not None,
            queued_at=datetime.fromisoformat(queued_at) if queued_at else None,
        )
        done = self._run(job)
        if not done.passed:  # left to the process holding it: its period is not over
            log.info("left to another process", extra={"repository": repository})
            return
        # recorded only now (a pass cut short by a crash is taken over): the period the job
        # was queued for, and the one it started in (a tick folded into a waiting webhook
        # job queued nothing; the webhook's pass counts for it)
        periods = {p for p in (period, done.period) if p is not None}
        self._store.first_times([_passed(repository, p) for p in sorted(periods)])

    def start(self, run: PassJob) -> None:
        """Open the queue and start this replica's worker (its own thread and event loop)."""
        self._run = run
        self._app.open()  # the synchronous side: enqueueing from request and scheduler threads
        self._thread = threading.Thread(target=self._serve, name="image-bot-queue", daemon=True)
        self._thread.start()
        self._ready.wait(timeout=30)

    def _serve(self) -> None:
        asyncio.run(self._work())

    async def _work(self) -> None:
        async with self._app.open_async():
            self._loop = asyncio.get_running_loop()
            options: dict[str, Any] = {
                "queues": [QUEUE],
                "name": self._holder,
                "concurrency": self._concurrency,
                "install_signal_handlers": False,
                "update_heartbeat_interval": self._lease / 4,
                "stalled_worker_timeout": self._lease,
                "fetch_job_polling_interval": min(5.0, self._lease / 4),
                "delete_jobs": "successful",
            }
            self._worker = asyncio.create_task(self._app.run_worker_async(**options))
            recovering = asyncio.create_task(self._recover())
            self._ready.set()
            try:
                await self._worker
            except asyncio.CancelledError:
                pass
            finally:
                recovering.cancel()

    async def _recover(self) -> None:
        """Put the jobs of workers silent for `lease` back in the queue (they died)."""
        manager = self._app.job_manager
        lease = timedelta(seconds=self._lease)
        while True:
            await asyncio.sleep(self._lease / 4)
            try:
                stalled = list(
                    await manager.get_stalled_jobs(queue=QUEUE, seconds_since_heartbeat=self._lease)
                )
                for job in stalled:
                    await self._take_over(manager, job, lease)
                await manager.prune_stalled_workers(self._lease)
            except Exception:  # the database may be away for a moment: try next time
                log.exception("cannot look for stalled passes")

    @staticmethod
    async def _take_over(manager: JobManager, job: Job, lease: timedelta) -> None:
        """Put one stalled job back; its failure leaves the others of the round to go on."""
        try:
            if await put_back(manager, job, lease):
                log.warning(
                    "taking over a dead replica's pass", extra={"job": job.id, "lock": job.lock}
                )
        except Exception:  # the next round tries it again
            log.exception("cannot take over a dead replica's pass", extra={"job": job.id})

    def stop(self) -> None:
        """Take no new job, let the running ones finish, close the queue."""
        self._enqueuer.shutdown(wait=True)
        loop, worker = self._loop, self._worker
        if loop is not None and worker is not None:
            loop.call_soon_threadsafe(worker.cancel)
        if self._thread is not None:
            self._thread.join()
        self._app.close()


async def put_back(manager: JobManager, job: Job, lease: timedelta) -> bool:
    """Put a dead replica's `job` back in the queue, startable `lease` from now (when the
    dead replica's repository lease has lapsed too); False when another replica, which saw
    it stalled at the same moment, put it back first (it is left as that one put it). A
    pass of the same repository that another replica's tick queued meanwhile (the same
    queueing lock) makes way for it: it would do the same pass, but could start before that
    lease lapses and be turned away."""
    from procrastinate.exceptions import UniqueViolation  # noqa: PLC0415

    retry_at = datetime.now(UTC) + lease
    try:
        return await _retry(manager, job, retry_at)
    except UniqueViolation:  # a pass of the repository waits: queued meanwhile, or put back
        waiting = await manager.list_jobs_async(
            queue=QUEUE, status="todo", queueing_lock=job.queueing_lock
        )
        if any(other.id == job.id for other in waiting):
            return False  # the other replica put it back already: never delete it here
        for other in waiting:
            if other.id is not None:
                await manager.cancel_job_by_id_async(other.id, delete_job=True)
        return await _retry(manager, job, retry_at)


async def _retry(manager: JobManager, job: Job, retry_at: datetime) -> bool:
    """Retry `job` at `retry_at`; False when it is no longer running (another replica put
    it back first)."""
    from procrastinate.exceptions import ConnectorException  # noqa: PLC0415

    try:
        await manager.retry_job(job, retry_at=retry_at)
    except ConnectorException:
        found = list(await manager.list_jobs_async(id=job.id))
        if found and found[0].status == "doing":
            raise  # still running: a real failure (the database, a new waiting pass)
        return False
    return True


class SharedDeliveries:
    """Webhook delivery ids remembered in the shared state: a redelivery to any replica is
    seen as a duplicate (`service.web.Deliveries`)."""

    def __init__(self, store: StateStore) -> None:
        self._store = store

    def __contains__(self, delivery_id: object) -> bool:
        return isinstance(delivery_id, str) and self._store.seen(f"delivery {delivery_id}")

    def record(self, delivery_id: str) -> None:
        """Remember `delivery_id` as handled."""
        self._store.first_delivery(f"delivery {delivery_id}")
