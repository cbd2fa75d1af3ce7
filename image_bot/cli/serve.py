"""`image-bot serve`: the long-running service (scheduler, webhooks, status page, metrics).

SIGTERM/SIGINT stop the HTTP server, then the running pass finishes before the process exits
(nothing new starts). SIGHUP re-reads the config file (schedules and repositories; webhook
secrets, the listen address and `github_app` need a restart). With `github_app`, the App's
installed repositories join the configured ones (`app/github_app.py`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import signal
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import click
import uvicorn

from image_bot import __version__
from image_bot.cli.exit_codes import exits_on_errors
from image_bot.cli.logs import UVICORN, chosen_level, setup_logging
from image_bot.cli.options import pass_settings
from image_bot.config import Config
from image_bot.config.load import load_config
from image_bot.github_app.installations import GitHubAppRepositories
from image_bot.github_app.webhooks import GitHubEvent, InstallationChanged
from image_bot.pipeline import PassOptions, run_pass
from image_bot.publish.forge_kind import SharedSpacing
from image_bot.scan.cloud.provider import CloudCredentials
from image_bot.service.metrics import Metrics
from image_bot.service.pass_results import PassOutcome
from image_bot.service.registry_counts import counting
from image_bot.service.runner import PassRunner, Service
from image_bot.service.shared_queue import SharedDeliveries, SharedQueue
from image_bot.service.shared_status import SharedStatuses
from image_bot.service.status import ServiceState
from image_bot.service.web import create_app
from image_bot.service.webhooks import WebhookSecrets
from image_bot.state import StateStore
from image_bot.wiring.forges import Forges
from image_bot.wiring.passes import (
    StateLocation,
    lease_holder,
    open_state,
    pass_options,
    registry_opener,
    shared_write_spacing,
    state_location,
    state_path,
    with_leases,
)

if TYPE_CHECKING:
    from image_bot.scan.oci import OCIRegistry
    from image_bot.scan.registry import Registry

__all__ = ["serve"]

log = logging.getLogger(__name__)

_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _runner(
    location: StateLocation,
    options: PassOptions,
    app: GitHubAppRepositories | None,
    spacing: SharedSpacing | None,
) -> PassRunner:
    """A pass with the concrete adapters; the state file is opened in the worker thread.

    One `Forges` for the service's life: GitHub App installation tokens outlive a pass (a
    new one once an installation's repositories changed). App repositories get clone URLs
    with a current installation token. `spacing`: GitHub write turns shared with the other
    processes on a PostgreSQL state.
    """
    forges, generation = Forges(spacing), 0
    cloud = CloudCredentials()  # cloud registry tokens outlive a pass too

    def run(
        config: Config, rebuild: frozenset[tuple[str, int]], listings_since: datetime | None
    ) -> PassOutcome:
        nonlocal forges, generation
        if app is not None:
            if app.generation != generation:
                forges, generation = Forges(spacing), app.generation
            config = app.authorize(config)
        tags_fetched: Counter[str] = Counter()
        warnings: list[str] = []
        opened: list[OCIRegistry] = []

        def wrap(registry: OCIRegistry) -> AbstractAsyncContextManager[Registry]:
            opened.append(registry)
            return counting(registry, tags_fetched)

        with open_state(location) as store:
            report = run_pass(
                config,
                open_registry=registry_opener(config, wrap, warnings=warnings, cloud=cloud),
                forge_for=forges,
                options=dataclasses.replace(
                    with_leases(options, config), rebuild=rebuild, listings_since=listings_since
                ),
                state=store,
            )
        report = dataclasses.replace(report, warnings=(*report.warnings, *warnings))
        quotas = {
            ("registry", host): remaining
            for registry in opened
            for host, remaining in registry.rate_limits.items()
        }
        quotas |= forges.rate_limits()
        return PassOutcome(report, tags_fetched=dict(tags_fetched), rate_limits=quotas)

    return run


class _Server(uvicorn.Server):
    """uvicorn's server, except that SIGTERM/SIGINT are not re-raised after it stops.

    uvicorn re-raises the signal once the server is down, which would kill the process before
    the running pass drains; here `serve` returns normally and then stops the service.
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in _STOP_SIGNALS}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def _base_branch(service: Service) -> Callable[[str], str | None]:
    def base_of(repository: str) -> str | None:
        for repo in service.config.repositories:
            if repo.project_name == repository:
                return repo.base
        return None

    return base_of


def _on_github(
    service: Service, installed: GitHubAppRepositories | None
) -> Callable[[GitHubEvent], None]:
    """GitHub events to the service; an installation change first drops that installation's
    token (it may not cover the new repository set)."""

    def handle(event: GitHubEvent) -> None:
        if installed is not None and isinstance(event, InstallationChanged):
            installed.forget(event.installation_id)
        service.handle_github(event)

    return handle


@click.command("serve")
@pass_settings("The config file (SIGHUP re-reads it).")
@click.option("--host", help="Listen address [default: service.host].")
@click.option("--port", type=click.IntRange(1, 65535), help="Port [default: service.port].")
@click.option("--dry-run", is_flag=True, help="Plan and report; push and open nothing.")
@exits_on_errors
def serve(
    *,
    config_path: Path,
    host: str | None,
    port: int | None,
    state_dir: Path | None,
    no_state: bool,
    cache_dir: Path | None,
    dry_run: bool,
    tag_cache_ttl: str,
    digest_ttl: str,
    concurrency: int,
    log_format: Literal["text", "json"],
    log_level: str | None,
) -> None:
    """Run passes on a schedule and on webhooks; serve probes, metrics and a status page."""
    options = pass_options(
        cache_dir=cache_dir,
        dry_run=dry_run,
        tag_cache_ttl=tag_cache_ttl,
        digest_ttl=digest_ttl,
        concurrency=concurrency,
    )
    # uvicorn through the same redacting handler and format: URLs may carry tokens
    setup_logging(log_format, level=chosen_level(log_level, logging.INFO), libraries=UVICORN)
    first = load_config(config_path)  # fail fast (exit 2) before anything starts
    location = state_location(first, state_dir=state_dir, no_state=no_state)
    state_dir = state_path(first, state_dir=state_dir, no_state=no_state)
    metrics = Metrics(version=__version__)
    github_app = first.github_app
    installed = GitHubAppRepositories(github_app) if github_app is not None else None

    def load() -> Config:
        config = load_config(config_path)
        return installed.expand(config) if installed is not None else config

    with contextlib.ExitStack() as shared:
        queue, deliveries, state = None, None, ServiceState()
        spacing = shared.enter_context(shared_write_spacing(location))
        if isinstance(location, str) and first.state is not None:  # replicas share the work
            store = shared.enter_context(StateStore.at_url(location))
            state = ServiceState(shared=SharedStatuses(store))
            queue = SharedQueue(
                location,
                store,
                holder=lease_holder(),
                lease=first.state.lease,
                concurrency=concurrency,
            )
            deliveries = SharedDeliveries(store)
        _serve(
            first,
            Service(
                load,
                _runner(location, options, installed, spacing),
                state=state,
                metrics=metrics,
                refresh_repositories=installed is not None,
                shared=queue,
            ),
            deliveries,
            installed=installed,
            listen=(host or first.service.host, port or first.service.port),
            facts={
                "state": "postgresql" if queue else str(state_dir or "none"),
                "dry_run": dry_run,
            },
        )


def _serve(
    first: Config,
    service: Service,
    deliveries: SharedDeliveries | None,
    *,
    installed: GitHubAppRepositories | None,
    listen: tuple[str, int],
    facts: dict[str, object],
) -> None:
    """Start the service and the HTTP server; on SIGTERM drain and stop."""
    state, metrics = service.state, service.metrics
    app = create_app(
        state,
        trigger=service.trigger,
        secrets=WebhookSecrets.from_spec(first.service.webhooks),
        metrics=metrics,
        on_github=_on_github(service, installed),
        base_branch=_base_branch(service),
        deliveries=deliveries,
    )
    listen_host, listen_port = listen
    server = _Server(
        uvicorn.Config(
            app, host=listen_host, port=listen_port, log_config=None, server_header=False
        )
    )
    service.start()
    log.info(
        "image-bot %s serving",
        __version__,
        extra={
            "version": __version__,
            "listen": f"{listen_host}:{listen_port}",
            "repositories": len(service.config.repositories),
            "github_app": installed is not None,
            **facts,
        },
    )
    # reload in a thread: the handler interrupts the main thread, which may hold state locks
    signal.signal(
        signal.SIGHUP,
        lambda _signum, _frame: threading.Thread(target=service.reload, name="reload").start(),
    )
    try:
        server.run()
    finally:
        log.info("stopping: letting the running pass finish")
        service.stop()
