"""PyGithub's GraphQL auto-merge against the fake forge: the mutation is validated against the
published SDL and executed; CI turning green merges for real; refusals look like GitHub's."""

from __future__ import annotations

import pytest
from github import Auth, Github, GithubException
from github.PullRequest import PullRequest as GhPullRequest

from tests.fakeforge.control import FakeForge

pytestmark = pytest.mark.integration

REPO = "acme/deploy"


@pytest.fixture
def gh_pull(fake_forge: FakeForge) -> GhPullRequest:
    fake_forge.create_repo(REPO, {"app.yaml": "image: nginx:1.0\n"})
    fake_forge.commit(REPO, "image-bot/nginx", {"app.yaml": "image: nginx:1.1\n"}, start="main")
    gh = Github(
        auth=Auth.Token(fake_forge.bot_token),
        base_url=fake_forge.github_api_url,
        seconds_between_requests=None,
        seconds_between_writes=None,
    )
    repo = gh.get_repo(REPO)
    return repo.create_pull(base="main", head="image-bot/nginx", title="Bump", body="")


def test_enable_automerge_then_green_checks_merge(
    fake_forge: FakeForge, gh_pull: GhPullRequest
) -> None:
    gh_pull.enable_automerge(merge_method="SQUASH")
    state = fake_forge.pull(REPO, gh_pull.number)
    assert state.auto_merge == "SQUASH"
    assert state.auto_merge_by == fake_forge.bot
    gh_pull.update()
    assert gh_pull.auto_merge is not None
    assert gh_pull.raw_data["auto_merge"]["merge_method"] == "squash"

    head = fake_forge.branch_sha(REPO, "image-bot/nginx")
    assert head is not None
    assert fake_forge.set_status(REPO, head, "pending") == []
    assert fake_forge.pull(REPO, gh_pull.number).state == "open"
    merged = fake_forge.set_status(REPO, head, "success")

    assert [pr.number for pr in merged] == [gh_pull.number]
    main = fake_forge.branch_sha(REPO, "main")
    assert main is not None
    assert fake_forge.repo(REPO).git.commit_info(main).parents != (head,)  # squashed
    assert fake_forge.read_file(REPO, "main", "app.yaml") == "image: nginx:1.1\n"


def test_combined_status_reflects_reported_checks(
    fake_forge: FakeForge, gh_pull: GhPullRequest
) -> None:
    lazy = Github(
        auth=Auth.Token(fake_forge.bot_token), base_url=fake_forge.github_api_url, lazy=True
    )
    repo = lazy.get_repo(REPO)  # lazy: GET /commits/{ref} itself is not in the contract
    head = gh_pull.head.sha
    assert repo.get_commit(head).get_combined_status().state == "pending"
    fake_forge.set_status(REPO, head, "failure")
    combined = repo.get_commit(head).get_combined_status()
    assert combined.state == "failure"
    assert [s.state for s in combined.statuses] == ["failure"]


def test_disable_automerge(fake_forge: FakeForge, gh_pull: GhPullRequest) -> None:
    gh_pull.enable_automerge()
    gh_pull.disable_automerge()
    assert fake_forge.pull(REPO, gh_pull.number).auto_merge is None


def test_automerge_refused_when_repository_does_not_allow_it(
    fake_forge: FakeForge, gh_pull: GhPullRequest
) -> None:
    fake_forge.repo(REPO).allow_auto_merge = False
    with pytest.raises(GithubException) as caught:
        gh_pull.enable_automerge()
    errors = caught.value.data["errors"]
    assert errors[0]["type"] == "UNPROCESSABLE"
    assert errors[0]["message"] == "Pull request Auto merge is not allowed for this repository"
    assert fake_forge.pull(REPO, gh_pull.number).auto_merge is None


def test_automerge_refused_in_clean_status_without_required_checks(
    fake_forge: FakeForge, gh_pull: GhPullRequest
) -> None:
    fake_forge.repo(REPO).require_checks = False
    with pytest.raises(GithubException) as caught:
        gh_pull.enable_automerge()
    assert "clean status" in caught.value.data["errors"][0]["message"]


def test_graphql_mutation_outside_the_contract_is_a_violation(
    fake_forge: FakeForge, gh_pull: GhPullRequest
) -> None:
    with pytest.raises(GithubException):
        gh_pull.convert_to_draft()  # convertPullRequestToDraft is not in the published SDL
    violations = fake_forge.take_violations()
    assert len(violations) == 1
    assert "convertPullRequestToDraft" in violations[0]
