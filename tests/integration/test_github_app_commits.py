"""Commits through the Git Data API as a GitHub App installation (so GitHub signs them), against
the fake forge: real PyGithub, real RS256 App JWT, installation token, real git underneath."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from github import Auth, Github
from github.Repository import Repository

from image_bot.errors import PushRejected
from image_bot.publish.forges.github.commits import commit_through_api, move_branch
from tests.fakeforge.control import FakeForge

pytestmark = pytest.mark.integration

REPO = "acme/gitops"
FILES = {"apps/web.yaml": "image: nginx:1.25\n", "old.yaml": "x: 1\n", "run.sh": "echo 1\n"}


@pytest.fixture
def app_repo(fake_forge: FakeForge) -> Iterator[Repository]:
    fake_forge.create_repo(REPO, FILES)
    app_id, key = fake_forge.create_app()
    installation_id = fake_forge.install_app(app_id, "acme", [REPO])
    auth = Auth.AppAuth(app_id, key).get_installation_auth(installation_id)
    client = Github(
        auth=auth,
        base_url=fake_forge.github_api_url,
        seconds_between_requests=None,
        seconds_between_writes=None,
        lazy=True,
    )
    yield client.get_repo(REPO)
    client.close()


def test_a_commit_made_by_the_api_changes_only_the_given_files(
    app_repo: Repository, fake_forge: FakeForge
) -> None:
    base = fake_forge.branch_sha(REPO, "main")
    assert base is not None
    fake_forge.clear_calls()
    commit = commit_through_api(
        app_repo,
        parent=base,
        files={"apps/web.yaml": "image: nginx:1.27\n", "old.yaml": None, "run.sh": "echo 2\n"},
        message="Update nginx to 1.27",
        modes={"run.sh": "100755"},
    )
    move_branch(app_repo, "image-bot/nginx", commit.sha, expected=None)

    assert fake_forge.branch_sha(REPO, "image-bot/nginx") == commit.sha
    assert fake_forge.read_file(REPO, commit.sha, "apps/web.yaml") == "image: nginx:1.27\n"
    assert fake_forge.read_file(REPO, commit.sha, "old.yaml") is None
    git = fake_forge.repo(REPO).git
    info = git.commit_info(commit.sha)
    assert info.author_name == "image-bot[bot]"  # authored by the App: GitHub signs those
    assert git.out("rev-parse", f"{commit.sha}^").strip() == base
    assert git.out("ls-tree", commit.sha, "run.sh").split()[0] == "100755"
    assert fake_forge.count_calls("github", writes=True, path="/git/") == 3  # tree, commit, ref


def test_moving_a_branch_that_moved_meanwhile_is_refused(
    app_repo: Repository, fake_forge: FakeForge
) -> None:
    base = fake_forge.branch_sha(REPO, "main")
    assert base is not None
    first = commit_through_api(app_repo, parent=base, files={"a.yaml": "a: 1\n"}, message="one")
    move_branch(app_repo, "image-bot/a", first.sha, expected=None)
    with pytest.raises(PushRejected, match="exists"):
        move_branch(app_repo, "image-bot/a", first.sha, expected=None)

    human = fake_forge.commit(REPO, "image-bot/a", {"b.yaml": "b: 1\n"}, message="a human")
    second = commit_through_api(app_repo, parent=base, files={"a.yaml": "a: 2\n"}, message="two")
    with pytest.raises(PushRejected, match="moved"):
        move_branch(app_repo, "image-bot/a", second.sha, expected=first.sha)
    assert fake_forge.branch_sha(REPO, "image-bot/a") == human  # the human's push survives

    move_branch(app_repo, "image-bot/a", second.sha, expected=human)  # rebuilt from base
    assert fake_forge.branch_sha(REPO, "image-bot/a") == second.sha
