"""`image-bot run --once` with `forge: github`: real PyGithub and git over HTTP, fake forge."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fakeforge.control import FakeForge
from tests.support.registry import RunningRegistry
from tests.support.runs import github_repository, run_once

pytestmark = pytest.mark.integration

REPO = "acme/deploy"
BOT = "image-bot@example.com"


@pytest.fixture
def setup(fake_forge: FakeForge, registry: RunningRegistry, repo_name: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    config = tmp_path / "image-bot.yaml"
    image = github_repository(
        fake_forge,
        registry,
        repo_name,
        config,
        repository=REPO,
        extra=f"    commit: {{author_email: {BOT}}}\n",
    )
    return fake_forge, registry, repo_name, image, config, tmp_path


def test_a_pull_request_is_opened_then_left_alone_when_nothing_is_new(setup) -> None:  # type: ignore[no-untyped-def]
    forge, _, _, image, config, work = setup
    code, report = run_once(config, work)
    assert code == 0, report
    (pull,) = forge.pulls(REPO)
    assert (pull.title, pull.base, pull.state) == (f"Update {image} to 1.1.0", "main", "open")
    assert "<!-- image-bot:" in pull.body
    assert forge.read_file(REPO, pull.head, "deploy/app.yaml") == f"image: {image}:1.1.0\n"
    assert forge.bot_token not in json.dumps(report)

    branches = forge.branches(REPO)
    forge.clear_calls()
    code, report = run_once(config, work)
    assert code == 0, report
    (branch,) = report["repositories"][0]["branches"]
    assert branch["action"] == "keep"
    assert report["repositories"][0]["git_writes"] == 0
    assert forge.count_calls(writes=True) == 0  # no push, no API write
    # the PR listing, and the open PRs' comment counts (commands; docs/commands.md)
    assert forge.count_calls("github", writes=False) == 2
    assert forge.count_calls("github", path=r"/issues$", writes=False) == 1
    assert forge.branches(REPO) == branches


def test_a_human_push_to_the_pull_request_branch_is_never_overwritten(setup) -> None:  # type: ignore[no-untyped-def]
    forge, registry, repo_name, _, config, work = setup
    run_once(config, work)
    (pull,) = forge.pulls(REPO)
    human = forge.commit(REPO, pull.head, {"NOTES.md": "reviewing\n"}, message="note")
    registry.push_tags(f"{repo_name}/app", ["1.2.0"], distinct=True)  # the plan changes
    code, report = run_once(config, work)
    assert code == 0, report
    (branch,) = report["repositories"][0]["branches"]
    assert branch["action"] == "hold"
    assert forge.branch_sha(REPO, pull.head) == human


def test_a_pull_request_that_failed_to_open_is_opened_next_pass_without_a_new_push(setup) -> None:  # type: ignore[no-untyped-def]
    forge, _, _, _, config, work = setup
    forge.inject_fault("github", 422, method="POST", path=r"/pulls$", message="Validation Failed")
    code, report = run_once(config, work)
    assert code == 1
    (branch,) = report["repositories"][0]["branches"]
    assert branch["error"]
    pushed = forge.branches(REPO)
    assert forge.pulls(REPO) == []

    code, report = run_once(config, work)
    assert code == 0, report
    assert report["repositories"][0]["git_writes"] == 0  # the branch was already right
    (pull,) = forge.pulls(REPO)
    assert forge.branches(REPO) == pushed
    assert pull.head in pushed


def test_a_pull_request_that_failed_to_update_catches_up_without_a_new_push(setup) -> None:  # type: ignore[no-untyped-def]
    forge, registry, repo_name, image, config, work = setup
    run_once(config, work)
    registry.push_tags(f"{repo_name}/app", ["1.2.0"], distinct=True)
    forge.inject_fault("github", 422, method="PATCH", path=r"/pulls/\d+$", message="Nope")
    code, report = run_once(config, work)
    assert code == 1
    (pull,) = forge.pulls(REPO)
    pushed = forge.branches(REPO)
    assert forge.read_file(REPO, pull.head, "deploy/app.yaml") == f"image: {image}:1.2.0\n"
    assert "1.2.0" not in pull.title  # the branch moved on, the pull request text did not

    code, report = run_once(config, work)
    assert code == 0, report
    (branch,) = report["repositories"][0]["branches"]
    assert (branch["action"], report["repositories"][0]["git_writes"]) == ("update", 0)
    assert forge.branches(REPO) == pushed
    assert forge.pulls(REPO)[0].title == f"Update {image} to 1.2.0"
    code, report = run_once(config, work)
    assert report["repositories"][0]["branches"][0]["action"] == "keep"


def test_one_image_moving_to_two_tags_gets_a_title_that_names_both(  # issue 14, item 17
    fake_forge: FakeForge, registry: RunningRegistry, repo_name: str, tmp_path: Path
) -> None:
    config = tmp_path / "image-bot.yaml"
    image = github_repository(fake_forge, registry, repo_name, config, repository=REPO)
    registry.push_tags(f"{repo_name}/app", ["1.0.0-alpine", "1.1.0-alpine"], distinct=True)
    fake_forge.commit(REPO, "main", {"deploy/slim.yaml": f"image: {image}:1.0.0-alpine\n"})

    code, report = run_once(config, tmp_path)

    assert code == 0, report
    (pull,) = fake_forge.pulls(REPO)
    assert pull.title == f"Update {image} to 1.1.0, 1.1.0-alpine"  # was `Update X (X)`
    slim = fake_forge.read_file(REPO, pull.head, "deploy/slim.yaml")
    assert slim == f"image: {image}:1.1.0-alpine\n"
