"""The real PyGithub client against the fake forge: pull requests, comments, labels, merges
that are real git merges, git over HTTP with the token, auth failures, injected faults, and
the contract check catching an undocumented call."""

from __future__ import annotations

import subprocess  # noqa: TID251 - the test drives the real git client
from pathlib import Path

import pytest
from github import Auth, Github, GithubException, RateLimitExceededException
from github.Repository import Repository as GhRepository

from tests.fakeforge.barerepo import git_env
from tests.fakeforge.control import FakeForge

pytestmark = pytest.mark.integration

REPO = "acme/deploy"


def client(forge: FakeForge, token: str | None = None) -> Github:
    """PyGithub pointed at the fake, without client-side throttling or retries."""
    return Github(
        auth=Auth.Token(token or forge.bot_token),
        base_url=forge.github_api_url,
        seconds_between_requests=None,
        seconds_between_writes=None,
        retry=None,
    )


@pytest.fixture
def gh_repo(fake_forge: FakeForge) -> GhRepository:
    fake_forge.create_repo(REPO, {"app.yaml": "image: nginx:1.0\n"})
    fake_forge.commit(REPO, "image-bot/nginx", {"app.yaml": "image: nginx:1.1\n"}, start="main")
    return client(fake_forge).get_repo(REPO)


def git(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, env=git_env(), check=False
    )


def test_repository_reports_default_branch_and_fake_clone_url(
    fake_forge: FakeForge, gh_repo: GhRepository
) -> None:
    assert gh_repo.default_branch == "main"
    assert gh_repo.full_name == REPO
    assert gh_repo.clone_url == f"{fake_forge.base_url}/{REPO}.git"


def test_create_list_update_and_close_pull_request(
    fake_forge: FakeForge, gh_repo: GhRepository
) -> None:
    pr = gh_repo.create_pull(base="main", head="image-bot/nginx", title="Bump", body="v1")
    assert pr.number == 1
    assert pr.head.sha == fake_forge.branch_sha(REPO, "image-bot/nginx")
    assert pr.mergeable is True

    listed = list(gh_repo.get_pulls(state="open", head="acme:image-bot/nginx", base="main"))
    assert [p.number for p in listed] == [1]
    assert list(gh_repo.get_pulls(state="open", head="acme:other")) == []

    pr.edit(title="Bump nginx to 1.1", body="v2")
    assert fake_forge.pull(REPO, 1).title == "Bump nginx to 1.1"
    assert gh_repo.get_pull(1).body == "v2"

    pr.edit(state="closed")
    assert fake_forge.pull(REPO, 1).state == "closed"
    assert list(gh_repo.get_pulls(state="open")) == []
    assert [p.state for p in gh_repo.get_pulls(state="all")] == ["closed"]


def test_duplicate_pull_request_is_refused_with_422(gh_repo: GhRepository) -> None:
    gh_repo.create_pull(base="main", head="image-bot/nginx", title="Bump", body="")
    with pytest.raises(GithubException) as caught:
        gh_repo.create_pull(base="main", head="image-bot/nginx", title="Again", body="")
    assert caught.value.status == 422


def test_listing_paginates_with_link_headers(fake_forge: FakeForge) -> None:
    fake_forge.create_repo(REPO)
    for i in range(5):
        fake_forge.commit(REPO, f"b{i}", {f"f{i}": "x"}, start="main")
        fake_forge.open_pull(REPO, f"b{i}", title=f"pr {i}")
    gh = client(fake_forge)
    gh.per_page = 2
    numbers = [p.number for p in gh.get_repo(REPO).get_pulls(state="all")]
    assert numbers == [5, 4, 3, 2, 1]
    assert fake_forge.count_calls("github", path=r"/pulls$") == 3


def test_comments_labels_reviewers_and_assignees(
    fake_forge: FakeForge, gh_repo: GhRepository
) -> None:
    pr = gh_repo.create_pull(base="main", head="image-bot/nginx", title="Bump", body="")
    pr.create_issue_comment("first")
    pr.add_to_labels("dependencies", "image-bot")
    pr.remove_from_labels("image-bot")
    pr.create_review_request(reviewers=["alice"])
    pr.add_to_assignees("alice")

    state = fake_forge.pull(REPO, pr.number)
    assert [c.body for c in state.comments] == ["first"]
    assert state.labels == ["dependencies"]
    assert state.reviewers == ["alice"]
    assert state.assignees == ["alice"]
    assert [c.body for c in pr.get_issue_comments()] == ["first"]
    assert [label.name for label in gh_repo.get_pull(pr.number).labels] == ["dependencies"]


def test_merge_is_a_real_git_merge(fake_forge: FakeForge, gh_repo: GhRepository) -> None:
    pr = gh_repo.create_pull(base="main", head="image-bot/nginx", title="Bump", body="")
    head = fake_forge.branch_sha(REPO, "image-bot/nginx")
    result = pr.merge(merge_method="merge")

    assert result.merged
    assert fake_forge.branch_sha(REPO, "main") == result.sha
    assert fake_forge.read_file(REPO, "main", "app.yaml") == "image: nginx:1.1\n"
    parents = fake_forge.repo(REPO).git.commit_info(result.sha).parents
    assert parents[1] == head
    assert gh_repo.get_pull(pr.number).merged
    assert pr.is_merged()


def test_merge_conflict_is_refused(fake_forge: FakeForge, gh_repo: GhRepository) -> None:
    pr = gh_repo.create_pull(base="main", head="image-bot/nginx", title="Bump", body="")
    fake_forge.commit(REPO, "main", {"app.yaml": "image: nginx:2.0\n"})
    assert gh_repo.get_pull(pr.number).mergeable is False
    with pytest.raises(GithubException) as caught:
        pr.merge()
    assert caught.value.status == 405
    assert fake_forge.pull(REPO, pr.number).state == "open"


def test_git_clone_and_push_over_http_with_token(
    fake_forge: FakeForge, gh_repo: GhRepository, tmp_path: Path
) -> None:
    work = tmp_path / "clone"
    cloned = git("clone", "-q", fake_forge.git_url(REPO), str(work))
    assert cloned.returncode == 0, cloned.stderr
    assert (work / "app.yaml").read_text() == "image: nginx:1.0\n"

    (work / "app.yaml").write_text("image: nginx:1.2\n")
    git("checkout", "-q", "-b", "image-bot/nginx-1.2", cwd=work)
    git("commit", "-qam", "Bump nginx to 1.2", cwd=work)
    pushed = git("push", "-q", "origin", "image-bot/nginx-1.2", cwd=work)
    assert pushed.returncode == 0, pushed.stderr

    local_head = git("rev-parse", "HEAD", cwd=work).stdout.strip()
    assert fake_forge.branch_sha(REPO, "image-bot/nginx-1.2") == local_head
    pr = gh_repo.create_pull(base="main", head="image-bot/nginx-1.2", title="Bump", body="")
    assert pr.head.sha == local_head


def test_git_without_or_with_wrong_token_is_refused(
    fake_forge: FakeForge, gh_repo: GhRepository, tmp_path: Path
) -> None:
    for url in (fake_forge.git_url(REPO, token=""), fake_forge.git_url(REPO, token="wrong")):
        cloned = git("clone", "-q", url, str(tmp_path / "c"))
        assert cloned.returncode != 0
    statuses = {c.status for c in fake_forge.calls("git")}
    assert statuses == {401}


def test_branch_ref_delete_closes_the_pull_request(
    fake_forge: FakeForge, gh_repo: GhRepository
) -> None:
    pr = gh_repo.create_pull(base="main", head="image-bot/nginx", title="Bump", body="")
    ref = gh_repo.get_git_ref("heads/image-bot/nginx")
    assert ref.object.sha == fake_forge.branch_sha(REPO, "image-bot/nginx")
    ref.delete()
    assert fake_forge.branch_sha(REPO, "image-bot/nginx") is None
    assert gh_repo.get_pull(pr.number).state == "closed"


def test_bad_token_gets_401(fake_forge: FakeForge, gh_repo: GhRepository) -> None:
    with pytest.raises(GithubException) as caught:
        client(fake_forge, token="ghp_wrong").get_repo(REPO)
    assert caught.value.status == 401
    assert caught.value.data["message"] == "Bad credentials"


def test_undocumented_call_is_reported_as_violation(
    fake_forge: FakeForge, gh_repo: GhRepository
) -> None:
    pr = gh_repo.create_pull(base="main", head="image-bot/nginx", title="Bump", body="")
    with pytest.raises(GithubException):
        pr.set_labels("x")  # PUT /issues/{n}/labels is not in the published subset
    violations = fake_forge.take_violations()
    assert len(violations) == 1
    assert "undocumented call PUT /repos/acme/deploy/issues/1/labels" in violations[0]


def test_injected_secondary_rate_limit(fake_forge: FakeForge, gh_repo: GhRepository) -> None:
    fake_forge.inject_fault("github", 403, method="GET", path=r"/pulls$", retry_after=7)
    with pytest.raises(GithubException) as caught:
        list(gh_repo.get_pulls())
    assert caught.value.status == 403
    assert caught.value.headers["retry-after"] == "7"
    assert "secondary rate limit" in caught.value.data["message"]
    assert list(gh_repo.get_pulls()) == []  # the fault was for one call only


def test_calls_are_counted_by_read_and_write(fake_forge: FakeForge, gh_repo: GhRepository) -> None:
    fake_forge.clear_calls()
    pr = gh_repo.create_pull(base="main", head="image-bot/nginx", title="Bump", body="")
    pr.edit(body="new")
    list(gh_repo.get_pulls())
    assert fake_forge.count_calls("github", writes=True) == 2
    assert fake_forge.count_calls("github", writes=False) == 1
    assert fake_forge.count_calls("github", method="PATCH", path=r"/pulls/1$") == 1


def test_injected_primary_rate_limit(fake_forge: FakeForge, gh_repo: GhRepository) -> None:
    fake_forge.inject_fault("github", 403, method="GET", path=r"/pulls$", primary=True)
    with pytest.raises(RateLimitExceededException) as caught:
        list(gh_repo.get_pulls())
    assert caught.value.headers["x-ratelimit-remaining"] == "0"


def test_rate_limit_headers_count_requests(fake_forge: FakeForge) -> None:
    fake_forge.create_repo(REPO)
    gh = client(fake_forge)
    gh.get_repo(REPO)
    remaining, limit = gh.rate_limiting
    assert limit == 5000
    gh.get_repo(REPO)
    assert gh.rate_limiting[0] == remaining - 1
    core = gh.get_rate_limit().resources.core
    assert core.remaining == remaining - 1
