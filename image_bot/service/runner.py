"""The long-running service: scheduled and triggered passes, one at a time, reload and drain.

APScheduler only decides *when*: its jobs (one per schedule, `coalesce`, `max_instances=1`,
jitter) put work on a queue. One worker thread runs the passes, so a webhook storm, a slow
pass and the schedule never overlap: work queued while a pass runs is merged into the next
pass. After each pass the worker updates `ServiceState` (status page, readiness) and `Metrics`.

A Trigger naming repositories re-plans just those. A Trigger naming images (a registry's
push notification) re-plans the repositories whose last pass found one of those images,
and every repository whose images are not known yet (never passed, or its last pass did
not get as far as reading its files); a repository that took the image into use since its
last pass is re-planned by its own push webhook or the schedule.

With a `SharedQueue` (replicas on PostgreSQL state, `service.shared_queue`) there is no local
queue: what is submitted becomes one job per repository in the shared queue (a scheduled
tick only for the repositories not passed in its period yet), and the queue's
worker runs each job as a pass over that one repository.

GitHub App mode (`refresh_repositories`): scheduled passes, repository triggers (a push may
change a repository's settings file) and installation changes re-load the config first, which
re-discovers the App's repositories. The schedule is only rebuilt when it changed, so pushes
cannot keep postponing a scheduled pass.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler

from image_bot.config import Config, ScheduleSpec
from image_bot.errors import ConfigError, ImageBotError
from image_bot.github_app.webhooks import GitHubEvent, InstallationChanged, PullRequestDeclined
from image_bot.model import ImageName, Trigger
from image_bot.report import Outcome, RunReport
from image_bot.service.metrics import Metrics, PassSummary
from image_bot.service.pass_results import PassOutcome, pass_summary, repository_status
from image_bot.service.periods import period_of, period_start
from image_bot.service.schedules import trigger_for
from image_bot.service.shared_queue import PassDone, PassRequest, QueuedPass, SharedQueue
from image_bot.service.status import RepositoryStatus, ServiceState

__all__ = ["PassRunner", "Service", "Work"]

log = logging.getLogger(__name__)

# A pass over `config`, rebuilding the (project, pull request number) pairs given, reusing
# the tag listings passes that started since the datetime stored in the state (None: none).
PassRunner = Callable[[Config, frozenset[tuple[str, int]], datetime | None], PassOutcome]


@dataclass(frozen=True, slots=True)
class Work:
    """One pass to run: these repositories (None: all), and why."""

    repositories: frozenset[str] | None
    reason: str
    targeted: bool = False
    refresh: bool = False  # re-load the config (re-discover App repositories) first
    rebuild: frozenset[tuple[str, int]] = frozenset()  # (repository, PR number): `rebase`
    schedule: ScheduleSpec | None = None  # the schedule whose tick this is
    listings_since: datetime | None = None  # reuse tag listings stored since (a queued job)

    def merge(self, other: Work) -> Work:
        """One pass that does both."""
        if self.repositories is None or other.repositories is None:
            repositories = None
        else:
            repositories = self.repositories | other.repositories
        targeted = self.targeted and other.targeted
        refresh = self.refresh or other.refresh
        rebuild = self.rebuild | other.rebuild
        return Work(repositories, f"{self.reason}; {other.reason}", targeted, refresh, rebuild)


_STOP = object()


def _log_finished(work: Work, repositories: int, report: RunReport, summary: PassSummary) -> None:
    """One line per pass: what it did, what failed and how long it took."""
    failed_branches = sum(
        1 for repo in report.repositories for branch in repo.branches if branch.error
    )
    log.log(
        logging.INFO if summary.outcome == Outcome.OK else logging.WARNING,
        "pass finished: %s",
        summary.outcome,
        extra={
            "reason": work.reason,
            "outcome": summary.outcome,
            "repositories": repositories,
            "pull_requests_opened": summary.pull_requests.get("opened", 0),
            "pull_requests_updated": summary.pull_requests.get("updated", 0),
            "pull_requests_closed": summary.pull_requests.get("closed", 0),
            "failed_repositories": sum(1 for repo in report.repositories if repo.errors)
            + (repositories - len(report.repositories)),
            "failed_images": len(
                {f.reference for repo in report.repositories for f in repo.image_failures}
            ),
            "failed_branches": failed_branches,
            "duration_seconds": round(summary.duration_seconds, 3),
            **({"error": "; ".join(report.errors)} if not report.repositories else {}),
        },
    )


class Service:
    """Schedules passes, takes triggers and GitHub events, runs one pass at a time."""

    def __init__(
        self,
        load_config: Callable[[], Config],
        run_pass: PassRunner,
        *,
        state: ServiceState,
        metrics: Metrics,
        refresh_repositories: bool = False,
        shared: SharedQueue | None = None,
    ) -> None:
        self._load_config = load_config
        self._shared = shared
        self._refresh = refresh_repositories
        self._run_pass = run_pass
        self.state = state
        self.metrics = metrics
        self._config: Config | None = None
        self._queue: queue.SimpleQueue[Work | object] = queue.SimpleQueue()
        self._stopping = threading.Event()
        self._worker = threading.Thread(target=self._work, name="image-bot-passes", daemon=True)
        self._scheduler = BackgroundScheduler(
            timezone=UTC,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 600},
        )
        self._plans: list[tuple[str, ScheduleSpec, list[str]]] = []  # (job id, schedule, repos)
        self._reload_lock = threading.Lock()

    @property
    def config(self) -> Config:
        """The configuration in force (after `start`)."""
        if self._config is None:
            raise RuntimeError("the service has not started")
        return self._config

    def start(self) -> None:
        """Load the config, schedule passes (the first one now), start scheduler and worker."""
        self._config = self._load_config()
        self.state.mark_config_loaded()
        if self._shared is not None:
            self._shared.start(self._pass_job)
        else:
            self._worker.start()
        self._schedule(self._config, first_now=True)
        self._scheduler.start()
        self._announce(self._config)
        self.state.mark_scheduler_started()

    def reload(self) -> bool:
        """Re-read the config (SIGHUP); a bad one is logged and the old one kept."""
        with self._reload_lock:
            return self._reload()

    def _reload(self) -> bool:
        try:
            config = self._load_config()
        except ConfigError as error:
            log.warning("config reload failed; keeping the old one", extra={"error": error.message})
            return False
        self._config = config
        self._schedule(config, first_now=False)
        known = {repo.project_name for repo in config.repositories}
        for status in self.state.repositories():
            if status.repository not in known:
                self.state.remove(status.repository)
        self._announce(config)
        log.info("config reloaded", extra={"repositories": len(known)})
        return True

    def stop(self) -> None:
        """Start nothing new; let the running pass finish (SIGTERM drain)."""
        self._stopping.set()
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        self._queue.put(_STOP)
        if self._worker.is_alive():
            self._worker.join()
        if self._shared is not None:
            self._shared.stop()

    def trigger(self, trigger: Trigger) -> None:
        """A webhook's request (must return at once: it runs inside the HTTP request)."""
        if self._stopping.is_set():
            return
        if trigger.images and self._shared is not None:
            # which repositories use the images is in the shared state: the queue's own
            # thread reads it, never the web server's event loop
            request = PassRequest((), trigger.reason, debounce=True)
            self._shared.enqueue_soon(request, narrow=lambda: self._users_of(trigger.images))
        elif trigger.images:
            users = self._users_of(trigger.images)
            if users:
                self.submit(Work(frozenset(users), trigger.reason, targeted=True))
        elif trigger.repositories:
            repositories = frozenset(trigger.repositories)
            self.submit(Work(repositories, trigger.reason, targeted=True, refresh=self._refresh))

    def _users_of(self, images: tuple[ImageName, ...]) -> tuple[str, ...]:
        """The repositories whose last pass found one of `images`, or whose images are not
        known (in the config's order)."""
        wanted = {str(image) for image in images}
        known = {status.repository: status.uses for status in self.state.repositories()}
        users = tuple(
            repo.project_name
            for repo in self.config.repositories
            if (uses := known.get(repo.project_name)) is None or not wanted.isdisjoint(uses)
        )
        if not users:
            log.info("no repository uses the pushed images", extra={"images": sorted(wanted)})
        return users

    def handle_github(self, event: GitHubEvent) -> None:
        """Installation changes (and declined pull requests) from GitHub; commands arrive as
        Triggers: the pass reads them from the forge (docs/commands.md)."""
        match event:
            case PullRequestDeclined(repository=repository, number=number):
                # reconcile already keeps a closed proposal closed (its marker's fingerprint)
                log.info("bot pull request declined", extra={"repo": repository, "pr": number})
            case InstallationChanged(added=added, removed=removed):
                for repository in removed:
                    self.state.remove(repository)
                # re-discover even without additions (the removed ones leave the config)
                self.submit(Work(frozenset(added), "installation changed", True, refresh=True))
            case _:
                log.info("github event not handled", extra={"event": str(event)})

    def submit(self, work: Work) -> None:
        """Queue a pass (merged with whatever else is waiting)."""
        if self._stopping.is_set():
            return
        if self._shared is None:
            self._queue.put(work)
            return
        names = [
            repo.project_name
            for repo in self.config.repositories
            if work.repositories is None or repo.project_name in work.repositories
        ]
        self._shared.enqueue_soon(
            PassRequest(
                tuple(names),
                work.reason,
                schedule=work.schedule,
                rebuild=work.rebuild,
                refresh=work.refresh,
                debounce=work.targeted,
            )
        )

    def _pass_job(self, job: QueuedPass) -> PassDone:
        """One job of the shared queue: a pass over its repository. A scheduled one reuses
        the tag listings of the passes that started since its period began and since the tick
        that queued it fired (a job started late in a long period, after a restart or a
        backlog, does not take listings from the period's first hours)."""
        if job.refresh:
            self.reload()
        repository = job.repository
        schedule = self._schedule_of(repository)
        started = datetime.now(UTC)
        since = None
        if job.scheduled and schedule:
            since = max(period_start(schedule, started), job.queued_at or started)
        pairs = frozenset((repository, number) for number in job.rebuild)
        log.info("queued pass starting", extra={"repository": repository, "reason": job.reason})
        work = Work(
            frozenset({repository}),
            job.reason,
            refresh=job.refresh,
            rebuild=pairs,
            listings_since=since,
        )
        report = self._run(work)
        log.info("queued pass done", extra={"repository": repository})
        held = report is not None and any(r.held_by for r in report.repositories)
        return PassDone(not held, period_of(schedule, started) if schedule else None)

    def _schedule_of(self, repository: str) -> ScheduleSpec | None:
        """The schedule `repository` is passed on (None: it is not configured)."""
        return next((spec for _, spec, names in self._plans if repository in names), None)

    # --- scheduling -------------------------------------------------------------------------

    def _schedule(self, config: Config, *, first_now: bool) -> None:
        plans = self._plan(config)
        if plans == self._plans and not first_now:
            return
        self._plans = plans
        for job in self._scheduler.get_jobs():
            job.remove()
        for job_id, schedule, names in plans:
            work = Work(
                frozenset(names), f"scheduled ({job_id})", refresh=self._refresh, schedule=schedule
            )
            extra = {"next_run_time": datetime.now(UTC)} if first_now else {}
            self._scheduler.add_job(
                self.submit, trigger_for(schedule), args=(work,), id=job_id, **extra
            )

    @staticmethod
    def _plan(config: Config) -> list[tuple[str, ScheduleSpec, list[str]]]:
        default = [r.project_name for r in config.repositories if r.schedule is None]
        plans = [("default", config.service.schedule, default)] if default else []
        plans += [
            (f"repo:{r.project_name}", r.schedule, [r.project_name])
            for r in config.repositories
            if r.schedule is not None
        ]
        return plans

    def _announce(self, config: Config) -> None:
        """Show configured repositories on the status page before their first pass."""
        for repo in config.repositories:
            name = repo.project_name
            self.state.put_if_absent(RepositoryStatus(name, next_pass=self._next_pass(name)))

    def _next_pass(self, repository: str) -> datetime | None:
        job_id = next((job_id for job_id, _, names in self._plans if repository in names), "")
        when = getattr(self._scheduler.get_job(job_id), "next_run_time", None)
        return when if isinstance(when, datetime) else None

    # --- the worker -------------------------------------------------------------------------

    def _take(self, first: Work) -> tuple[Work, bool]:
        work, stop = first, False
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return work, stop
            if isinstance(item, Work):
                work = work.merge(item)
            else:
                stop = True

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if not isinstance(item, Work) or self._stopping.is_set():
                return
            work, stop = self._take(item)
            try:
                if work.refresh:
                    self.reload()
                self._run(work)
            except Exception:  # the worker must outlive any one pass
                log.exception("pass crashed")
            if stop:
                return

    def _run(self, work: Work) -> RunReport | None:
        """Pass `work`'s repositories and record how it went; its report (None: none to pass)."""
        config = self.config
        chosen = [
            repo
            for repo in config.repositories
            if work.repositories is None or repo.project_name in work.repositories
        ]
        if not chosen:
            log.info("no configured repository to run", extra={"reason": work.reason})
            return None
        log.info("pass starting", extra={"reason": work.reason, "repositories": len(chosen)})
        started = time.monotonic()
        try:
            subset = config.model_copy(update={"repositories": tuple(chosen)})
            outcome = self._run_pass(subset, frozenset(work.rebuild), work.listings_since)
        except ImageBotError as error:
            outcome = PassOutcome(RunReport(errors=(error.message,)))
        except Exception as error:  # a bug: report it, keep serving
            log.exception("pass crashed")
            crash = f"internal error ({type(error).__name__}); see the logs"
            outcome = PassOutcome(RunReport(errors=(crash,)))
        finished = datetime.now(UTC)
        summary = pass_summary(
            outcome,
            duration=time.monotonic() - started,
            targeted=work.targeted,
            finished_at=finished.timestamp(),
        )
        self.metrics.observe_pass(summary)
        _log_finished(work, len(chosen), outcome.report, summary)
        self._record([repo.project_name for repo in chosen], outcome.report, finished)
        return outcome.report

    def _record(self, names: list[str], report: RunReport, finished: datetime) -> None:
        with self._reload_lock:  # a reload that dropped a repository wins over its last pass
            configured = {repo.project_name for repo in self.config.repositories}
            for index, name in enumerate(names):
                if name in configured:
                    self.state.put(self._status(name, index, report, finished))

    def _status(
        self, name: str, index: int, report: RunReport, finished: datetime
    ) -> RepositoryStatus:
        """One repository's status: its own errors and failing images only."""
        next_pass = self._next_pass(name)
        if index < len(report.repositories):
            return repository_status(
                name, report.repositories[index], finished=finished, next_pass=next_pass
            )
        # the pass failed before it reached this repository: what stopped it is its error too
        general = tuple(
            f"pass: {message}"
            for message in (*report.errors, *(f.error.message for f in report.scan_failures))
        )
        return RepositoryStatus(
            name, finished, next_pass, errors=general or ("pass: failed",), outcome="failed"
        )
