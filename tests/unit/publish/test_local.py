"""publish.local: a plain git remote as a forge; recognises the bot's branches by their head."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from image_bot.errors import PushRejected
from image_bot.model import PullRequestState
from image_bot.plan import Grouping, make_plans
from image_bot.publish.forges.local.forge import LocalForge, Recorded
from image_bot.publish.git import Author, Git
from image_bot.publish.pr.draft import commit_message, draft_for
from image_bot.publish.settings import CommitSettings, PullRequestSettings
from tests.support.gitrepo import GitRemote, MakeRemote
from tests.unit.publish.factory import change

BOT = Author("image-bot", "bot@example.com")
PLAN = make_plans(
    "repo",
    "main",
    [change("nginx:1.25", "1.27", "deploy.yaml")],
    grouping=Grouping(),
    branch_prefix="image-bot/",
    file_hashes={},
)[0]


@pytest.fixture
def remote(git_remote: MakeRemote) -> GitRemote:
    return git_remote(files={"deploy.yaml": "image: nginx:1.25\n"})


def publish(git: Git, author: Author = BOT) -> str:
    base = git.fetch("main", "image-bot/")
    message = commit_message(PLAN, CommitSettings())
    files = {"deploy.yaml": "image: nginx:1.27\n"}
    sha = git.commit(PLAN.branch, base, files, message, author, when=datetime.now(UTC))
    git.push(sha, PLAN.branch, expected=None)
    git.fetch("main", "image-bot/")
    return sha


def forge_for(git: Git) -> LocalForge:
    return LocalForge(git, base="main", branch_prefix="image-bot/", bot_email=BOT.email)


def test_a_bot_branch_is_an_open_pull_request_with_the_plan_fingerprint(
    remote: GitRemote, tmp_path: Path
) -> None:
    git = Git.open(remote.url, tmp_path / "cache")
    sha = publish(git)
    (pr,) = forge_for(git).bot_pull_requests(remote.url)
    assert (pr.branch, pr.base, pr.head_sha, pr.state) == (
        "image-bot/nginx",
        "main",
        sha,
        PullRequestState.OPEN,
    )
    assert pr.fingerprint == PLAN.fingerprint
    assert pr.proposals == ("docker.io/library/nginx:1.27",)
    assert pr.title == "Update docker.io/library/nginx to 1.27"


def test_a_human_commit_on_the_bot_branch_has_no_fingerprint(
    remote: GitRemote, tmp_path: Path
) -> None:
    git = Git.open(remote.url, tmp_path / "cache")
    publish(git)
    remote.commit("image-bot/nginx", {"deploy.yaml": "image: nginx:1.26\n"}, "pin 1.26 instead")
    git.fetch("main", "image-bot/")
    (pr,) = forge_for(git).bot_pull_requests(remote.url)
    assert pr.fingerprint is None


def test_a_marker_committed_by_someone_else_is_not_trusted(
    remote: GitRemote, tmp_path: Path
) -> None:
    git = Git.open(remote.url, tmp_path / "cache")
    publish(git, Author("mallory", "mallory@example.com"))
    (pr,) = forge_for(git).bot_pull_requests(remote.url)
    assert pr.fingerprint is None


def test_create_records_the_draft_and_close_deletes_the_branch(
    remote: GitRemote, tmp_path: Path
) -> None:
    git = Git.open(remote.url, tmp_path / "cache")
    sha = publish(git)
    forge = forge_for(git)
    draft = draft_for(PLAN, PullRequestSettings())
    pr = forge.create(remote.url, PLAN.branch, "main", draft)
    assert (pr.head_sha, pr.fingerprint) == (sha, PLAN.fingerprint)
    assert forge.recorded == [Recorded("create", PLAN.branch, draft.title, draft.body)]

    stale = forge.bot_pull_requests(remote.url)[0]
    remote.commit("image-bot/nginx", {"deploy.yaml": "x: 1\n"}, "human")
    with pytest.raises(PushRejected):
        forge.close(remote.url, stale)
    assert remote.branches("image-bot/") == ["image-bot/nginx"]
    git.fetch("main", "image-bot/")
    forge.close(remote.url, forge.bot_pull_requests(remote.url)[0], "no longer needed")
    assert remote.branches("image-bot/") == []
