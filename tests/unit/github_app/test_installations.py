"""GitHub App mode without the network: a repository's settings file becomes its RepositorySpec
(never interpolated, errors naming file, line and field), and the service re-loads its
config (re-discovers) before scheduled passes, repository triggers and installation changes.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from image_bot.config import Config, GitHubAppServiceSpec, RepositorySpec
from image_bot.errors import ConfigError
from image_bot.github_app.config_issues import MARKER, issue_body
from image_bot.github_app.installations import InstalledRepository, repository_settings
from image_bot.github_app.webhooks import InstallationChanged
from image_bot.model import Trigger
from image_bot.service.metrics import Metrics
from image_bot.service.runner import Service, Work
from image_bot.service.status import ServiceState
from tests.unit.service.test_runner import Runner, make_config, wait_for

SOURCE = ".github/image-bot.yml"
INSTALLED = InstalledRepository("acme/gitops", 42, "https://github.com/acme/gitops.git", "trunk")
APP = GitHubAppServiceSpec.model_validate(
    {"app_id": 7, "private_key": "-----BEGIN KEY-----", "api_url": "https://ghe.example/api/v3"}
)


def settings(text: str | None) -> RepositorySpec:
    return repository_settings(text, INSTALLED, APP, source=SOURCE)


def test_the_settings_file_configures_the_installed_repository() -> None:
    repo = settings("pull_request:\n  labels: [images]\npaths: [apps]\n")
    assert repo.pull_request.labels == ("images",)
    assert repo.paths == ("apps",)
    assert repo.project_name == "acme/gitops"
    assert repo.url == INSTALLED.clone_url
    assert repo.base == "trunk"  # the repository's default branch unless the file says
    assert repo.forge.type == "github"
    assert repo.forge.api_url == "https://ghe.example/api/v3"
    assert repo.forge.app is not None
    assert (repo.forge.app.app_id, repo.forge.app.installation_id) == (7, 42)


def test_installed_repositories_write_at_the_apps_write_interval() -> None:
    assert settings(None).forge.write_interval is None  # the default second
    paced = APP.model_copy(update={"write_interval": timedelta(0)})
    repo = repository_settings("paths: [apps]\n", INSTALLED, paced, source=SOURCE)
    assert repo.forge.write_interval == timedelta(0)
    with pytest.raises(ConfigError) as caught:  # the App's to set, like the rest of `forge`
        settings("forge: {write_interval: 0s}\n")
    assert caught.value.field == "forge"


def test_a_repository_without_the_file_gets_the_defaults() -> None:
    repo = settings(None)
    assert repo.base == "trunk"
    assert repo.pull_request.labels == ("image-bot",)
    assert settings("base: release\n").base == "release"


def test_the_file_is_never_interpolated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMAGE_BOT_TEST_SECRET", "s3cret")
    repo = settings(
        "commit:\n  author_name: ${IMAGE_BOT_TEST_SECRET}\n  author_email: ${file:/etc/hostname}\n"
    )
    assert repo.commit.author_name == "${IMAGE_BOT_TEST_SECRET}"
    assert repo.commit.author_email == "${file:/etc/hostname}"


def test_an_invalid_value_names_file_line_and_field() -> None:
    with pytest.raises(ConfigError) as caught:
        settings("# settings\npull_request:\n  draft: maybe\n")
    error = caught.value
    assert (error.file, error.line, error.field) == (SOURCE, 3, "pull_request.draft")
    body = issue_body(SOURCE, error)
    assert f"{SOURCE}:3: pull_request.draft:" in body
    assert MARKER in body


@pytest.mark.parametrize("key", ["forge", "url", "project"])
def test_the_bot_owned_keys_are_refused(key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        settings(f"base: main\n{key}: github\n")
    assert (caught.value.line, caught.value.field) == (2, key)


def test_not_a_mapping_is_refused() -> None:
    with pytest.raises(ConfigError, match="mapping"):
        settings("- a\n- b\n")


# --- the service in App mode ----------------------------------------------------------------


class Loads:
    """A config loader counting its calls (discovery happens inside it in App mode)."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.count = 0

    def __call__(self) -> Config:
        self.count += 1
        return self.config


@pytest.fixture
def loads() -> Loads:
    return Loads(make_config("acme/apps", "acme/infra", interval="24h"))


@pytest.fixture
def app_service(loads: Loads) -> Iterator[tuple[Service, Runner]]:
    runner = Runner()
    service = Service(
        loads, runner, state=ServiceState(), metrics=Metrics(), refresh_repositories=True
    )
    yield service, runner
    service.stop()


def test_repository_triggers_and_installation_changes_rediscover_first(
    app_service: tuple[Service, Runner], loads: Loads
) -> None:
    service, runner = app_service
    service.start()
    wait_for(lambda: len(runner.calls) == 1)
    assert loads.count == 2  # start, then the first scheduled pass re-discovers
    job = service._scheduler.get_job("default")
    next_run = job.next_run_time

    loads.config = make_config("acme/apps", "acme/infra", "acme/new", interval="24h")
    service.handle_github(InstallationChanged(1, "added", added=("acme/new",)))
    wait_for(lambda: len(runner.calls) == 2)
    assert runner.calls[-1] == ("acme/new",)  # discovered before the pass that runs it
    assert loads.count == 3

    service.trigger(Trigger(repositories=("acme/apps",), reason="push"))
    wait_for(lambda: len(runner.calls) == 3)
    assert loads.count == 4
    # the set of repositories grew once (rescheduled), then stayed: the timer was not reset
    assert service._scheduler.get_job("default").next_run_time >= next_run
    rescheduled = service._scheduler.get_job("default").next_run_time
    service.trigger(Trigger(repositories=("acme/apps",), reason="push"))
    wait_for(lambda: len(runner.calls) == 4)
    assert service._scheduler.get_job("default").next_run_time == rescheduled


def test_without_app_mode_triggers_do_not_reload(loads: Loads) -> None:
    runner = Runner()
    service = Service(loads, runner, state=ServiceState(), metrics=Metrics())
    try:
        service.start()
        wait_for(lambda: len(runner.calls) == 1)
        service.trigger(Trigger(repositories=("acme/apps",), reason="push"))
        wait_for(lambda: len(runner.calls) == 2)
        assert loads.count == 1
    finally:
        service.stop()


def test_work_merge_keeps_a_refresh() -> None:
    merged = Work(frozenset({"a"}), "push", refresh=True).merge(Work(frozenset({"b"}), "x"))
    assert merged.refresh
    assert not Work(None, "x").merge(Work(None, "y")).refresh
