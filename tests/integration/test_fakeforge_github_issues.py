"""PyGithub's issue calls against the fake forge: a plain (dashboard) issue shares the number
space with pull requests, the issue listing includes both, and issue search finds the bot's
pull requests."""

from __future__ import annotations

import pytest
from github import Auth, Github
from github.Repository import Repository as GhRepository

from tests.fakeforge.control import FakeForge

pytestmark = pytest.mark.integration

REPO = "acme/deploy"


@pytest.fixture
def gh(fake_forge: FakeForge) -> Github:
    fake_forge.create_repo(REPO)
    return Github(
        auth=Auth.Token(fake_forge.bot_token),
        base_url=fake_forge.github_api_url,
        seconds_between_requests=None,
        seconds_between_writes=None,
    )


@pytest.fixture
def gh_repo(gh: Github) -> GhRepository:
    return gh.get_repo(REPO)


def test_dashboard_issue_life_cycle(fake_forge: FakeForge, gh_repo: GhRepository) -> None:
    fake_forge.commit(REPO, "image-bot/a", {"a": "1"}, start="main")
    pr = gh_repo.create_pull(base="main", head="image-bot/a", title="Bump", body="")
    issue = gh_repo.create_issue("Dependency dashboard", body="- [ ] a", labels=["image-bot"])
    assert (pr.number, issue.number) == (1, 2)
    assert issue.pull_request is None

    issue.edit(body="- [x] a", labels=["image-bot", "dashboard"])
    issue.create_comment("refreshed")
    stored = fake_forge.issues(REPO)[0]
    assert (stored.body, stored.labels) == ("- [x] a", ["image-bot", "dashboard"])
    assert [c.body for c in stored.comments] == ["refreshed"]

    open_items = {i.number: i.pull_request is not None for i in gh_repo.get_issues(state="open")}
    assert open_items == {1: True, 2: False}
    mine = gh_repo.get_issues(state="open", labels=["dashboard"])
    assert [i.number for i in mine] == [2]

    issue.edit(state="closed")
    assert fake_forge.issues(REPO)[0].state == "closed"
    assert [i.number for i in gh_repo.get_issues(state="closed")] == [2]


def test_search_finds_open_bot_pull_requests(
    fake_forge: FakeForge, gh: Github, gh_repo: GhRepository
) -> None:
    for name in ("a", "b"):
        fake_forge.commit(REPO, f"image-bot/{name}", {name: "1"}, start="main")
        gh_repo.create_pull(base="main", head=f"image-bot/{name}", title=f"Bump {name}", body="")
    fake_forge.commit(REPO, "feature", {"f": "1"}, start="main")
    fake_forge.open_pull(REPO, "feature", title="Human work")
    gh_repo.get_pull(1).edit(state="closed")

    found = gh.search_issues(f"repo:{REPO} is:pr is:open author:image-bot")
    assert [i.number for i in found] == [2]
    assert found.totalCount == 1
    everything = gh.search_issues(f"repo:{REPO} is:pr")
    assert sorted(i.number for i in everything) == [1, 2, 3]
