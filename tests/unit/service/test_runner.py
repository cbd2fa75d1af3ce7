"""The service loop: schedules, triggers, coalescing, reload, drain, state and metrics.

A real APScheduler and a real worker thread; the pass itself is the injected `run_pass`
callable (what `serve` wires to `pipeline.run_pass`), recording what it was asked to do.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from image_bot.config import Config
from image_bot.errors import ConfigError, RegistryError
from image_bot.github_app.webhooks import InstallationChanged
from image_bot.model import (
    Change,
    ImageName,
    ImageRef,
    Occurrence,
    OccurrenceKind,
    ScanFailure,
    Trigger,
)
from image_bot.report import BranchReport, ImageFailure, RepositoryReport, RunReport
from image_bot.service.metrics import Metrics
from image_bot.service.pass_results import PassOutcome, pass_summary
from image_bot.service.runner import Service, Work
from image_bot.service.status import ServiceState

REPOS = ("acme/apps", "acme/infra", "acme/edge")


def make_config(*names: str, interval: str = "1h") -> Config:
    return Config.model_validate(
        {
            "repositories": [
                {"url": f"https://git.example.com/{name}.git", "forge": "local"} for name in names
            ],
            "service": {"schedule": {"interval": interval}},
        }
    )


def change(old: str, new: str) -> Change:
    name = ImageName("docker.io", "library/nginx")
    before = ImageRef(name, old.rpartition(":")[2], text=old)
    occurrence = Occurrence("deploy.yaml", 0, (), OccurrenceKind.POD_SPEC, before, {})
    return Change(occurrence, before, ImageRef(name, new.rpartition(":")[2], text=new))


def report_for(config: Config) -> RunReport:
    """A pass that opened one PR per repository (nginx 1.25 -> 1.27); acme/apps also uses
    quay.io/x/y, whose registry failed."""
    return RunReport(
        repositories=tuple(
            RepositoryReport(
                repository=repo.url,
                base=repo.base,
                images=(
                    ("docker.io/library/nginx", "quay.io/x/y")
                    if repo.project_name == "acme/apps"
                    else ("docker.io/library/nginx",)
                ),
                image_failures=(
                    (ImageFailure("quay.io/x/y:2.0", "2.0", "registry quay.io (x/y): 503"),)
                    if repo.project_name == "acme/apps"
                    else ()
                ),
                branches=(
                    BranchReport(
                        branch="image-bot/nginx",
                        action="create",
                        title="Update nginx to 1.27",
                        url=f"https://git.example.com/{repo.project_name}/pull/3",
                        changes=(change("nginx:1.25", "nginx:1.27"),),
                    ),
                ),
            )
            for repo in config.repositories
        ),
        scan_failures=(
            ScanFailure(ImageName("quay.io", "x/y"), RegistryError("quay.io", "503", image="x/y")),
        ),
    )


class Runner:
    """Records each pass's repositories; can hold a pass open until released."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []
        self.configs: list[Config] = []
        self.rebuilds: list[frozenset[tuple[str, int]]] = []
        self.listings_since: list[datetime | None] = []
        self.hold = threading.Event()
        self.hold.set()
        self.started = threading.Event()
        self._lock = threading.Lock()

    def __call__(
        self, config: Config, rebuild: frozenset[tuple[str, int]], since: datetime | None
    ) -> PassOutcome:
        self.started.set()
        self.hold.wait(timeout=10)
        with self._lock:
            self.calls.append(tuple(repo.project_name for repo in config.repositories))
            self.configs.append(config)
            self.rebuilds.append(rebuild)
            self.listings_since.append(since)
        return PassOutcome(report_for(config), tags_fetched={"docker.io": 7})


def wait_for(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


@pytest.fixture
def runner() -> Runner:
    return Runner()


@pytest.fixture
def configs() -> list[Config]:
    return [make_config(*REPOS)]


@pytest.fixture
def service(runner: Runner, configs: list[Config]) -> Iterator[Service]:
    def load() -> Config:
        config = configs[-1]
        if isinstance(config, Exception):
            raise config
        return config

    started = Service(load, runner, state=ServiceState(), metrics=Metrics())
    yield started
    runner.hold.set()
    started.stop()


def test_start_runs_the_first_pass_and_becomes_ready(service: Service, runner: Runner) -> None:
    assert not service.state.ready
    service.start()
    assert service.state.ready
    assert [status.repository for status in service.state.repositories()] == sorted(REPOS)
    wait_for(lambda: all(status.last_pass for status in service.state.repositories()))
    assert runner.calls == [REPOS]
    status = service.state.get("acme/apps")
    assert status is not None
    assert status.last_pass is not None
    assert status.next_pass is not None
    assert timedelta(minutes=55) < status.next_pass - datetime.now(UTC) <= timedelta(hours=1)
    (image,) = [image for image in status.images if not image.failed]
    assert (image.reference, image.current, image.proposed) == ("nginx:1.25", "1.25", "1.27")
    (pull,) = status.pull_requests
    assert (pull.number, pull.title) == (3, "Update nginx to 1.27")


def test_each_repository_shows_its_own_failing_images_and_a_partial_pass(
    service: Service,
) -> None:
    service.start()
    wait_for(lambda: all(status.last_pass for status in service.state.repositories()))
    apps, infra = service.state.get("acme/apps"), service.state.get("acme/infra")
    assert apps is not None
    assert infra is not None
    assert apps.errors == ("quay.io/x/y:2.0: registry quay.io (x/y): 503",)
    assert apps.outcome == "partial"  # one image could not be checked; nginx still moved
    failing = [image for image in apps.images if image.failed]
    assert [(i.reference, i.current, i.proposed) for i in failing] == [
        ("quay.io/x/y:2.0", "2.0", None)
    ]
    assert "503" in failing[0].note
    assert infra.errors == ()  # not another repository's failure
    assert infra.outcome == "ok"
    assert not any(image.failed for image in infra.images)


def test_repository_trigger_replans_only_that_repository(service: Service, runner: Runner) -> None:
    service.start()
    wait_for(lambda: len(runner.calls) == 1)
    service.trigger(Trigger(repositories=("acme/infra",), reason="push"))
    wait_for(lambda: len(runner.calls) == 2)
    assert runner.calls[1] == ("acme/infra",)


def test_image_trigger_replans_the_repositories_that_use_the_image(
    service: Service, runner: Runner
) -> None:
    service.start()
    wait_for(lambda: all(status.last_pass for status in service.state.repositories()))
    service.trigger(Trigger(images=(ImageName("quay.io", "x/y"),), reason="push"))
    wait_for(lambda: len(runner.calls) == 2)
    assert runner.calls[1] == ("acme/apps",)  # the only one whose last pass found it
    service.trigger(Trigger(images=(ImageName("ghcr.io", "acme/app"),), reason="push"))
    nginx = ImageName("docker.io", "library/nginx")
    service.trigger(Trigger(images=(nginx,), reason="push"))
    wait_for(lambda: len(runner.calls) == 3)
    time.sleep(0.2)
    assert runner.calls[2] == REPOS  # every repository uses nginx; nobody ghcr.io/acme/app
    assert len(runner.calls) == 3

    def sample(name: str, **labels: str) -> float | None:
        return service.metrics.registry.get_sample_value(name, labels)

    # one image failed but every repository got through: partial, not failed (both times)
    wait_for(lambda: sample("image_bot_passes_total", kind="targeted", outcome="partial") == 2)
    assert sample("image_bot_tags_fetched_total", registry="docker.io") == 21  # 3 passes of 7


def test_an_image_trigger_replans_repositories_whose_images_are_not_known_yet(
    service: Service, runner: Runner
) -> None:
    runner.hold.clear()
    service.start()  # the first pass is held: no repository's images are known yet
    assert runner.started.wait(5)
    service.trigger(Trigger(images=(ImageName("ghcr.io", "acme/app"),), reason="push"))
    runner.hold.set()
    wait_for(lambda: len(runner.calls) == 2)
    assert runner.calls[1] == REPOS


def test_triggers_during_a_pass_coalesce_into_one(service: Service, runner: Runner) -> None:
    runner.hold.clear()
    service.start()
    assert runner.started.wait(5)
    for name in ("acme/infra", "acme/edge", "acme/infra"):
        service.trigger(Trigger(repositories=(name,), reason=f"push {name}"))
    service.trigger(Trigger())  # empty: asks for nothing
    runner.hold.set()
    wait_for(lambda: len(runner.calls) == 2)
    time.sleep(0.2)
    assert len(runner.calls) == 2
    assert set(runner.calls[1]) == {"acme/infra", "acme/edge"}


def test_unknown_repositories_run_nothing(service: Service, runner: Runner) -> None:
    service.start()
    wait_for(lambda: len(runner.calls) == 1)
    service.trigger(Trigger(repositories=("someone/else",), reason="push"))
    service.trigger(Trigger(repositories=("acme/edge",), reason="push"))
    wait_for(lambda: len(runner.calls) == 2)
    assert runner.calls[1] == ("acme/edge",)


def test_reload_keeps_a_good_config_and_forgets_removed_repositories(
    service: Service, runner: Runner, configs: list[object]
) -> None:
    service.start()
    wait_for(lambda: len(runner.calls) == 1)
    configs.append(ConfigError("bad", file="image-bot.yaml", line=3))
    assert not service.reload()
    assert len(service.config.repositories) == 3
    configs.append(make_config("acme/apps"))
    assert service.reload()
    assert [status.repository for status in service.state.repositories()] == ["acme/apps"]
    service.trigger(Trigger(repositories=("acme/infra",), reason="push"))
    service.trigger(Trigger(repositories=("acme/apps",), reason="push"))
    wait_for(lambda: len(runner.calls) == 2)
    assert runner.calls[1] == ("acme/apps",)


def test_stop_lets_the_running_pass_finish_and_starts_nothing_new(
    service: Service, runner: Runner
) -> None:
    runner.hold.clear()
    service.start()
    assert runner.started.wait(5)
    service.trigger(Trigger(repositories=("acme/edge",), reason="queued before stop"))
    stopper = threading.Thread(target=service.stop)
    stopper.start()
    time.sleep(0.1)
    assert stopper.is_alive()  # waiting for the pass
    runner.hold.set()
    stopper.join(timeout=10)
    assert not stopper.is_alive()
    assert runner.calls == [REPOS]  # the running pass finished; the queued one never ran
    service.trigger(Trigger(repositories=("acme/edge",), reason="after stop"))
    time.sleep(0.1)
    assert runner.calls == [REPOS]


def test_a_command_trigger_replans_its_repository_and_installation_events(
    service: Service, runner: Runner
) -> None:
    service.start()
    wait_for(lambda: len(runner.calls) == 1)
    # `/image-bot rebase` arrives as a Trigger: the pass reads the command from the forge
    service.trigger(Trigger(repositories=("acme/edge",), reason="/image-bot on pull request #3"))
    wait_for(lambda: len(runner.calls) == 2)
    assert runner.calls[1] == ("acme/edge",)
    service.handle_github(InstallationChanged(1, "removed", removed=("acme/infra",)))
    assert service.state.get("acme/infra") is None


def test_a_crashing_pass_does_not_kill_the_worker(configs: list[Config]) -> None:
    calls: list[int] = []

    def flaky(
        config: Config, _rebuild: frozenset[tuple[str, int]], _since: datetime | None
    ) -> PassOutcome:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("boom")
        return PassOutcome(report_for(config))

    service = Service(lambda: configs[-1], flaky, state=ServiceState(), metrics=Metrics())
    service.start()
    try:
        wait_for(lambda: len(calls) == 1)
        wait_for(lambda: bool(getattr(service.state.get("acme/apps"), "errors", ())))
        crashed = service.state.get("acme/apps")
        assert crashed is not None
        assert crashed.errors == ("pass: internal error (RuntimeError); see the logs",)
        service.trigger(Trigger(repositories=("acme/apps",), reason="again"))
        wait_for(lambda: len(calls) == 2)
        wait_for(lambda: getattr(service.state.get("acme/apps"), "images", ()) != ())
    finally:
        service.stop()


def test_pass_summary_counts_pull_requests_and_registry_errors() -> None:
    report = report_for(make_config("acme/apps", "acme/infra"))
    quotas = {("registry", "ghcr.io"): 4000, ("github", "api.github.com"): 4990}
    outcome = PassOutcome(report, tags_fetched={"ghcr.io": 40}, rate_limits=quotas)
    summary = pass_summary(outcome, duration=1.5, targeted=False, finished_at=10.0)
    assert summary.tags_fetched == {"ghcr.io": 40}
    assert summary.pull_requests == {"opened": 2}
    assert summary.registry_errors == {"quay.io": 1}
    assert summary.rate_limit_remaining == quotas
    assert summary.outcome == "partial"
    dry = pass_summary(
        PassOutcome(RunReport(repositories=report.repositories[1:], dry_run=True)),
        duration=1.0,
        targeted=True,
        finished_at=11.0,
    )
    assert dry.pull_requests == {}
    assert dry.outcome == "ok"
    broken = RepositoryReport(repository="x", base="main", errors=("cannot clone",))
    down = pass_summary(
        PassOutcome(RunReport(repositories=(broken,))),
        duration=1.0,
        targeted=False,
        finished_at=12.0,
    )
    assert down.outcome == "failed"  # no repository got through


def test_work_merges() -> None:
    some = Work(frozenset({"a"}), "x", targeted=True)
    assert some.merge(Work(frozenset({"b"}), "y", targeted=True)).repositories == {"a", "b"}
    assert some.merge(Work(None, "all")).repositories is None
    assert not some.merge(Work(None, "all")).targeted
