"""The status pages of replicas on one PostgreSQL state show every repository's newest pass.

Two real `Service`s (real scheduler and worker; the pass itself is the injected runner, as
`serve` wires it to the pipeline), each with its own state connection, and each replica's
real HTTP app (through httpx's ASGI transport): a pass one replica ran shows on the other's
page, the newest pass wins whoever records last, and each page keeps its own next pass.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from image_bot.config import Config
from image_bot.model import ImageName, StageVersion, Trigger, Waiting
from image_bot.report import BranchReport, RepositoryReport, RunReport
from image_bot.service.metrics import Metrics
from image_bot.service.pass_results import PassOutcome
from image_bot.service.runner import Service
from image_bot.service.shared_status import (
    SharedStatuses,
    status_document,
    status_from_document,
)
from image_bot.service.status import (
    ImageStatus,
    PullRequestStatus,
    RepositoryStatus,
    ServiceState,
)
from image_bot.service.web import create_app
from image_bot.service.webhooks import WebhookSecrets
from image_bot.state import StateStore

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
APP = ImageName("ghcr.io", "acme/app")
REPOSITORY = "acme/apps"


def _config() -> Config:
    return Config.model_validate(
        {
            "repositories": [
                {"url": f"https://git.example.com/{REPOSITORY}.git", "forge": "local"}
            ],
            "service": {"schedule": {"interval": "1h"}},
        }
    )


def test_a_status_survives_its_document_whole() -> None:
    status = RepositoryStatus(
        REPOSITORY,
        last_pass=NOW,
        next_pass=NOW + timedelta(hours=1),
        images=(ImageStatus("nginx:1.25", "1.25", "1.27", "create image-bot/nginx"),),
        pull_requests=(PullRequestStatus("Update nginx", "https://x/pull/3", "b", "main", 3),),
        errors=("quay.io/x/y:2.0: 503",),
        stages=("dev", "prod"),
        environments=(
            StageVersion("dev", APP, "1.2.0", "sha256:" + "ab" * 32, NOW, None, None),
            StageVersion("prod", APP, "1.1.0", None, NOW - timedelta(days=2), 1, NOW),
        ),
        waiting=(Waiting("prod", APP, "1.2.0", "soak 19h left", NOW + timedelta(hours=19)),),
        outcome="partial",
        uses=("docker.io/library/nginx", "quay.io/x/y"),
    )
    again = status_from_document(status_document(status))
    assert again == RepositoryStatus(**{**_fields(status), "next_pass": None})
    # a document written before `uses` was kept: its images are not known
    older = status_document(dataclasses.replace(status, uses=None)).replace(', "uses": null', "")
    assert '"uses"' not in older
    assert status_from_document(older) == dataclasses.replace(again, uses=None)


def _fields(status: RepositoryStatus) -> dict[str, object]:
    return {name: getattr(status, name) for name in RepositoryStatus.__slots__}


@pytest.mark.parametrize(
    "document",
    ['{"format": 2, "repository": "acme/apps"}', '{"format": 1}', "[1, 2]", "not json", "{}"],
)
def test_a_document_this_version_cannot_read_is_skipped(document: str) -> None:
    assert status_from_document(document) is None


class Replica:
    """One service on the shared state: its runner reports what `outcome` says."""

    def __init__(self, url: str, stack: ExitStack, error: str) -> None:
        store = stack.enter_context(StateStore.at_url(url))
        self.error = error
        self.passes = 0
        self._lock = threading.Lock()
        self.state = ServiceState(shared=SharedStatuses(store))
        self.service = Service(_config, self._run, state=self.state, metrics=Metrics())
        stack.callback(self.service.stop)

    def _run(
        self, config: Config, rebuild: frozenset[tuple[str, int]], since: datetime | None
    ) -> PassOutcome:
        (repo,) = config.repositories
        report = RepositoryReport(
            repository=repo.url,
            base=repo.base,
            branches=(BranchReport(branch="image-bot/nginx", action="keep", error=self.error),),
        )
        with self._lock:
            self.passes += 1
        return PassOutcome(RunReport(repositories=(report,)))

    def page(self) -> str:
        app = create_app(
            self.state, trigger=lambda _: None, secrets=WebhookSecrets(), metrics=Metrics()
        )

        async def get() -> str:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://r.test") as c:
                return (await c.get("/")).text

        return asyncio.run(get())


def _wait_for(check: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@pytest.fixture
def replicas(postgres_url: str) -> Iterator[tuple[Replica, Replica]]:
    with ExitStack() as stack:
        yield (
            Replica(postgres_url, stack, "pushed by replica one"),
            Replica(postgres_url, stack, "pushed by replica two"),
        )


def test_a_pass_one_replica_ran_shows_on_the_others_page(
    replicas: tuple[Replica, Replica],
) -> None:
    one, two = replicas
    one.service.start()
    _wait_for(lambda: one.passes == 1 and one.state.get(REPOSITORY) is not None)
    _wait_for(lambda: "replica one" in one.page())
    two.service.start()  # its first pass comes later: the newest
    _wait_for(lambda: two.passes == 1)
    _wait_for(lambda: "replica two" in two.page())
    assert "replica two" in one.page()  # replica one shows replica two's newer pass
    assert "replica one" not in one.page()

    one.service.trigger(Trigger(repositories=frozenset({REPOSITORY}), reason="push"))
    _wait_for(lambda: one.passes == 2)
    _wait_for(lambda: "replica one" in two.page())
    assert "replica two" not in two.page()
    assert "Next pass</dt><dd><time" in two.page()  # its own scheduler's next pass


def test_an_older_pass_recorded_late_does_not_replace_a_newer_one(postgres_url: str) -> None:
    with StateStore.at_url(postgres_url) as first, StateStore.at_url(postgres_url) as second:
        newer = RepositoryStatus(REPOSITORY, last_pass=NOW, errors=("newer",), outcome="failed")
        older = RepositoryStatus(REPOSITORY, last_pass=NOW - timedelta(minutes=5), outcome="ok")
        SharedStatuses(first).record(newer)
        SharedStatuses(second).record(older)  # a slow replica finishing late
        here = ServiceState(shared=SharedStatuses(second))
        here.put_if_absent(RepositoryStatus(REPOSITORY, next_pass=NOW + timedelta(hours=1)))
        (shown,) = here.repositories()
    assert shown.errors == ("newer",)
    assert shown.next_pass == NOW + timedelta(hours=1)


def test_a_page_reads_the_passes_of_the_repositories_it_shows(postgres_url: str) -> None:
    """Other repositories' rows (another config's, or one that left) are not read, and a
    repository not passed for `PASSES_KEPT` is forgotten."""
    with StateStore.at_url(postgres_url) as store:
        shared = SharedStatuses(store)
        for name, finished in [("acme/a", NOW), ("acme/b", NOW), ("acme/gone", NOW)]:
            shared.record(RepositoryStatus(name, last_pass=finished, outcome="ok"))
        assert set(shared.latest(["acme/a", "acme/c"])) == {"acme/a"}
        assert set(shared.latest()) == {"acme/a", "acme/b", "acme/gone"}
        here = ServiceState(shared=shared)
        here.put_if_absent(RepositoryStatus("acme/b"))
        (shown,) = here.repositories()
        assert (shown.repository, shown.outcome) == ("acme/b", "ok")
        assert here.get("acme/b") == shown

        store.forget_passes_before(NOW.timestamp())  # nothing finished before NOW
        assert len(shared.latest()) == 3
        store.forget_passes_before((NOW + timedelta(seconds=1)).timestamp())
        assert shared.latest() == {}
