"""One conformance suite for every Forge with pull requests: the real PyGithub and
python-gitlab clients against the fake forge (tests/fakeforge), through our adapters; then
every forge (the local one too) and every forge kind (`publish.forges.FORGE_KINDS`).

Each test reads the outcome twice: from what the adapter returns and from the fake's own
state (what a person would see on the forge).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

import pytest

from image_bot.config.repository import ForgeType
from image_bot.config.stages import FORGES_WITH_CHECKS
from image_bot.errors import ForgeAuthError, PullRequestConflict, RateLimited
from image_bot.model import CheckState, PullRequest, PullRequestState
from image_bot.publish.forge import Forge, PullRequestDraft, RateLimitReporter
from image_bot.publish.forge_kind import ForgeSettings, GitHubAppSettings, KeptCredentials
from image_bot.publish.forges import FORGE_KINDS
from image_bot.publish.forges.github.forge import GitHubForge
from image_bot.publish.forges.gitlab.forge import GitLabForge
from image_bot.publish.forges.local.forge import LocalForge
from image_bot.publish.git import Git, HttpCredentials
from image_bot.publish.pr.marker import PrMarker, encode_pr_marker
from tests.fakeforge.control import FakeForge

pytestmark = pytest.mark.integration

REPO = "acme/deploy"
BASE = "main"
NGINX = "docker.io/library/nginx:1.27.1"
REDIS = "docker.io/library/redis:7.4.0"


@dataclass
class Harness:
    """An adapter pointed at the fake, plus what the suite needs to know about its flavour."""

    api: str  # the fake's api name: github | gitlab
    fake: FakeForge
    make: Callable[[str], Forge]  # token -> forge

    @property
    def forge(self) -> Forge:
        return self.make(self.fake.bot_token)

    def push(self, branch: str, version: str = "1.27.1") -> str:
        """A bot branch on the forge, as publish/git.py would have pushed it."""
        return self.fake.commit(
            REPO,
            branch,
            {"deploy/app.yaml": f"image: nginx:{version}\n"},
            message=f"Update nginx to {version}",
            start=BASE,
            author=self.fake.bot,
        )


def _github(fake: FakeForge) -> Harness:
    def make(token: str) -> Forge:
        return GitHubForge.with_token(
            token, api_url=fake.github_api_url, request_interval=0, write_interval=0
        )

    return Harness("github", fake, make)


def _gitlab(fake: FakeForge) -> Harness:
    def make(token: str) -> Forge:
        return GitLabForge(token, url=fake.gitlab_url)

    return Harness("gitlab", fake, make)


@pytest.fixture(params=[_github, _gitlab], ids=["github", "gitlab"])
def harness(request: pytest.FixtureRequest, fake_forge: FakeForge) -> Harness:
    fake_forge.create_repo(REPO, {"deploy/app.yaml": "image: nginx:1.25.0\n"}, default_branch=BASE)
    build: Callable[[FakeForge], Harness] = request.param
    return build(fake_forge)


def _draft(
    fingerprint: str = "fp-1",
    proposals: tuple[str, ...] = (NGINX,),
    *,
    title: str = "Update nginx to 1.27.1",
    labels: tuple[str, ...] = ("image-bot",),
    draft: bool = False,
) -> PullRequestDraft:
    marker = encode_pr_marker(PrMarker(group="nginx", fingerprint=fingerprint, proposals=proposals))
    body = f"| image | from | to |\n|---|---|---|\n| nginx | 1.25.0 | 1.27.1 |\n\n{marker}\n"
    return PullRequestDraft(title=title, body=body, labels=labels, draft=draft)


def _only(prs: list[PullRequest], branch: str) -> PullRequest:
    found = [pr for pr in prs if pr.branch == branch]
    assert len(found) == 1, found
    return found[0]


def test_create_from_a_pushed_branch_then_list_it(harness: Harness) -> None:
    sha = harness.push("image-bot/nginx")
    forge = harness.forge
    created = forge.create(REPO, "image-bot/nginx", BASE, _draft())

    assert (created.branch, created.base, created.head_sha) == ("image-bot/nginx", BASE, sha)
    assert created.state is PullRequestState.OPEN
    assert (created.fingerprint, created.proposals) == ("fp-1", (NGINX,))
    assert created.labels == ("image-bot",)
    assert created.created_at is not None

    listed = _only(harness.forge.bot_pull_requests(REPO), "image-bot/nginx")
    assert listed.number == created.number
    assert (listed.fingerprint, listed.proposals, listed.head_sha) == ("fp-1", (NGINX,), sha)
    assert listed.title == "Update nginx to 1.27.1"
    assert listed.labels == ("image-bot",)
    on_server = harness.fake.pull(REPO, created.number)
    assert on_server.labels == ["image-bot"]
    assert on_server.author.login == "image-bot"


def test_listing_ignores_other_branches_and_flags_foreign_prs(harness: Harness) -> None:
    harness.fake.commit(REPO, "feature/x", {"a.txt": "x"}, start=BASE)
    harness.fake.open_pull(REPO, "feature/x", body=encode_pr_marker(PrMarker("g", "not-ours")))
    harness.fake.commit(REPO, "image-bot/hand-made", {"b.txt": "y"}, start=BASE)
    harness.fake.open_pull(REPO, "image-bot/hand-made", body="no marker here")

    prs = harness.forge.bot_pull_requests(REPO)

    assert [pr.branch for pr in prs] == ["image-bot/hand-made"]
    assert prs[0].fingerprint is None  # on a bot branch but not recognisably the bot's


def test_update_changes_title_body_and_labels(harness: Harness) -> None:
    harness.push("image-bot/nginx")
    created = harness.forge.create(REPO, "image-bot/nginx", BASE, _draft())
    new_sha = harness.push("image-bot/nginx", "1.27.2")
    new = _draft(
        "fp-2",
        ("docker.io/library/nginx:1.27.2",),
        title="Update nginx to 1.27.2",
        labels=("image-bot", "dependencies"),
    )

    forge = harness.forge
    forge.bot_pull_requests(REPO)
    updated = forge.update(REPO, created, new)

    assert (updated.title, updated.fingerprint, updated.head_sha) == (
        "Update nginx to 1.27.2",
        "fp-2",
        new_sha,
    )
    assert set(updated.labels) == {"image-bot", "dependencies"}
    on_server = harness.fake.pull(REPO, created.number)
    assert on_server.title == "Update nginx to 1.27.2"
    assert "fp-2" in on_server.body
    assert set(on_server.labels) == {"image-bot", "dependencies"}
    listed = _only(harness.forge.bot_pull_requests(REPO), "image-bot/nginx")
    assert (listed.fingerprint, listed.proposals) == ("fp-2", ("docker.io/library/nginx:1.27.2",))


def test_update_without_a_prior_listing_works_too(harness: Harness) -> None:
    harness.push("image-bot/nginx")
    created = harness.make(harness.fake.bot_token).create(REPO, "image-bot/nginx", BASE, _draft())
    updated = harness.forge.update(REPO, created, _draft("fp-9", title="Retitled"))
    assert harness.fake.pull(REPO, created.number).title == "Retitled"
    assert updated.fingerprint == "fp-9"


def test_comment(harness: Harness) -> None:
    harness.push("image-bot/nginx")
    forge = harness.forge
    created = forge.create(REPO, "image-bot/nginx", BASE, _draft())
    forge.comment(REPO, created, "nginx 1.27.1 was yanked; keeping this open")
    bodies = [c.body for c in harness.fake.pull(REPO, created.number).comments]
    assert bodies == ["nginx 1.27.1 was yanked; keeping this open"]


def test_closed_pr_is_still_listed_as_closed_with_its_proposals(harness: Harness) -> None:
    harness.push("image-bot/nginx")
    forge = harness.forge
    created = forge.create(REPO, "image-bot/nginx", BASE, _draft(proposals=(NGINX, REDIS)))
    forge.close(REPO, created, comment="superseded")

    on_server = harness.fake.pull(REPO, created.number)
    assert on_server.state == "closed"
    assert not on_server.merged
    assert [c.body for c in on_server.comments] == ["superseded"]
    listed = _only(harness.forge.bot_pull_requests(REPO), "image-bot/nginx")
    assert listed.state is PullRequestState.CLOSED
    assert (listed.fingerprint, listed.proposals) == ("fp-1", (NGINX, REDIS))


def test_merged_pr_is_listed_as_merged(harness: Harness) -> None:
    harness.push("image-bot/nginx")
    created = harness.forge.create(REPO, "image-bot/nginx", BASE, _draft())
    harness.fake.merge_pull(REPO, created.number)
    listed = _only(harness.forge.bot_pull_requests(REPO), "image-bot/nginx")
    assert listed.state is PullRequestState.MERGED


def test_only_the_newest_closed_pr_per_branch_is_listed(harness: Harness) -> None:
    forge = harness.forge
    harness.push("image-bot/nginx")
    first = forge.create(REPO, "image-bot/nginx", BASE, _draft("fp-old"))
    forge.close(REPO, first)
    time.sleep(1.1)  # forges order by updated_at with one-second resolution
    harness.push("image-bot/nginx", "1.27.2")
    second = forge.create(REPO, "image-bot/nginx", BASE, _draft("fp-new"))
    forge.close(REPO, second)

    listed = harness.forge.bot_pull_requests(REPO)
    assert [(pr.number, pr.fingerprint) for pr in listed] == [(second.number, "fp-new")]


def test_a_second_pr_for_the_same_branch_is_a_conflict(harness: Harness) -> None:
    harness.push("image-bot/nginx")
    forge = harness.forge
    forge.create(REPO, "image-bot/nginx", BASE, _draft())
    with pytest.raises(PullRequestConflict):
        forge.create(REPO, "image-bot/nginx", BASE, _draft())


def test_draft_pull_request(harness: Harness) -> None:
    harness.push("image-bot/nginx")
    created = harness.forge.create(REPO, "image-bot/nginx", BASE, _draft(draft=True))
    assert created.draft
    listed = _only(harness.forge.bot_pull_requests(REPO), "image-bot/nginx")
    assert listed.draft
    assert listed.title == "Update nginx to 1.27.1"  # GitLab's "Draft: " prefix is not ours
    assert harness.fake.pull(REPO, created.number).draft


def test_automerge_merges_once_the_checks_pass(harness: Harness) -> None:
    sha = harness.push("image-bot/nginx")
    forge = harness.forge
    created = forge.create(REPO, "image-bot/nginx", BASE, _draft())
    forge.enable_automerge(REPO, created)

    on_server = harness.fake.pull(REPO, created.number)
    assert on_server.auto_merge is not None
    assert not on_server.merged
    merged = harness.fake.set_status(REPO, sha, "success")
    assert [pr.number for pr in merged] == [created.number]
    listed = _only(harness.forge.bot_pull_requests(REPO), "image-bot/nginx")
    assert listed.state is PullRequestState.MERGED


def test_github_merges_at_once_when_the_pr_is_already_clean(fake_forge: FakeForge) -> None:
    # GitHub refuses auto-merge on a PR that can merge now ("clean status"): merge it then.
    harness = _github(fake_forge)
    fake_forge.create_repo(REPO)
    fake_forge.repo(REPO).require_checks = False
    harness.push("image-bot/nginx")
    forge = harness.forge
    created = forge.create(REPO, "image-bot/nginx", BASE, _draft())
    forge.enable_automerge(REPO, created)
    assert fake_forge.pull(REPO, created.number).merged


def test_a_commits_checks_are_read_together(harness: Harness) -> None:
    sha = harness.fake.branch_sha(REPO, BASE)
    assert sha is not None
    forge = harness.forge
    assert forge.checks(REPO, sha) is CheckState.NONE
    if harness.api == "github":
        harness.fake.report_status(REPO, sha, "ci/deploy", "pending")
        assert forge.checks(REPO, sha) is CheckState.PENDING
        harness.fake.report_status(REPO, sha, "ci/deploy", "success")
        harness.fake.report_check(REPO, sha, "build", conclusion="success")
        harness.fake.report_check(REPO, sha, "lint", conclusion="skipped")
    else:
        harness.fake.report_pipeline(REPO, sha, "running")
        assert forge.checks(REPO, sha) is CheckState.PENDING
        harness.fake.report_pipeline(REPO, sha, "success")
    harness.fake.report_status(REPO, sha, "external/scan", "success")
    assert forge.checks(REPO, sha) is CheckState.SUCCESS
    harness.fake.report_status(REPO, sha, "external/scan", "failure")
    assert forge.checks(REPO, sha) is CheckState.FAILURE


def test_rate_limit_429_becomes_rate_limited_with_retry_after(harness: Harness) -> None:
    harness.fake.inject_fault(harness.api, 429, retry_after=7)
    with pytest.raises(RateLimited) as caught:
        harness.forge.bot_pull_requests(REPO)
    assert caught.value.retry_after == 7.0
    assert harness.fake.count_calls(harness.api) == 1  # no sleeping retry inside the client


def test_github_secondary_limit_403_becomes_rate_limited(fake_forge: FakeForge) -> None:
    harness = _github(fake_forge)
    fake_forge.create_repo(REPO)
    fake_forge.inject_fault("github", 403, retry_after=30)
    with pytest.raises(RateLimited) as caught:
        harness.forge.bot_pull_requests(REPO)
    assert caught.value.retry_after == 30.0


def test_github_primary_limit_waits_until_the_reset(fake_forge: FakeForge) -> None:
    harness = _github(fake_forge)
    fake_forge.create_repo(REPO)
    fake_forge.inject_fault("github", 403, primary=True)
    with pytest.raises(RateLimited) as caught:
        harness.forge.bot_pull_requests(REPO)
    assert caught.value.retry_after is not None
    assert 0 <= caught.value.retry_after <= 3600


def test_no_write_is_sent_once_the_budget_is_spent(harness: Harness) -> None:
    harness.push("image-bot/nginx")
    forge = harness.forge
    harness.fake.inject_fault(harness.api, 429, primary=True)  # remaining: 0 until the reset
    with pytest.raises(RateLimited):
        forge.bot_pull_requests(REPO)
    calls = harness.fake.count_calls(harness.api)

    with pytest.raises(RateLimited) as caught:
        forge.create(REPO, "image-bot/nginx", BASE, _draft())

    assert harness.fake.count_calls(harness.api) == calls  # refused before sending
    assert caught.value.retry_after is not None
    assert 0 < caught.value.retry_after <= 3600


def test_bad_token_is_an_auth_error_without_the_token(harness: Harness) -> None:
    bad = "glpat-wrongwrongwrong1234"
    with pytest.raises(ForgeAuthError) as caught:
        harness.make(bad).bot_pull_requests(REPO)
    assert bad not in str(caught.value)


def test_listing_twenty_open_bot_prs_costs_at_most_two_reads_and_no_write(
    harness: Harness,
) -> None:
    forge = harness.forge
    for n in range(20):
        branch = f"image-bot/image-{n:02d}"
        harness.push(branch, f"1.{n}.0")
        forge.create(REPO, branch, BASE, _draft(f"fp-{n}", labels=()))
    harness.fake.clear_calls()

    prs = harness.forge.bot_pull_requests(REPO)

    assert len(prs) == 20
    assert all(pr.fingerprint is not None for pr in prs)
    assert harness.fake.count_calls(harness.api, writes=False) <= 2
    assert harness.fake.count_calls(harness.api, writes=True) == 0


def test_update_after_a_listing_reads_nothing(harness: Harness) -> None:
    harness.push("image-bot/nginx")
    harness.forge.create(REPO, "image-bot/nginx", BASE, _draft())
    forge = harness.forge
    (listed,) = forge.bot_pull_requests(REPO)
    harness.fake.clear_calls()

    forge.update(REPO, listed, _draft("fp-2", title="Update nginx to 1.27.2"))
    forge.comment(REPO, listed, "rebuilt from main")

    assert harness.fake.count_calls(harness.api, writes=False) == 0
    assert harness.fake.count_calls(harness.api, writes=True) == 2  # labels were already there


def test_github_reviewers_and_assignees_are_added_once(fake_forge: FakeForge) -> None:
    harness = _github(fake_forge)
    fake_forge.create_repo(REPO)
    harness.push("image-bot/nginx")
    wanted = PullRequestDraft(
        title="Update nginx",
        body=_draft().body,
        labels=("image-bot",),
        reviewers=("alice",),
        assignees=("alice",),
    )
    created = harness.forge.create(REPO, "image-bot/nginx", BASE, wanted)
    on_server = fake_forge.pull(REPO, created.number)
    assert (on_server.reviewers, on_server.assignees) == (["alice"], ["alice"])
    assert (created.reviewers, created.assignees) == (("alice",), ("alice",))

    forge = harness.forge
    (listed,) = forge.bot_pull_requests(REPO)
    assert (listed.reviewers, listed.assignees) == (("alice",), ("alice",))
    fake_forge.clear_calls()
    forge.update(REPO, listed, wanted)
    assert fake_forge.count_calls("github", path="requested_reviewers|assignees|labels") == 0


@pytest.mark.slow
def test_more_than_a_page_of_prs_lists_every_open_bot_pr(harness: Harness) -> None:
    """Past one page (100), the newest page is followed by a listing of every open PR."""
    fake = harness.fake
    for n in range(8):  # old open bot PRs...
        branch = f"image-bot/image-{n}"
        fake.commit(REPO, branch, {"deploy/app.yaml": str(n)}, start=BASE, author=fake.bot)
        body = encode_pr_marker(PrMarker(group=f"image-{n}", fingerprint=f"fp-{n}"))
        fake.open_pull(REPO, branch, title=f"PR {n}", body=body)
    time.sleep(1.1)  # updated_at has one-second resolution
    for n in range(95):  # ...then 95 human PRs closed since: they fill the newest page
        fake.commit(REPO, f"feature/{n}", {"n.txt": str(n)}, start=BASE)
        fake.close_pull(REPO, fake.open_pull(REPO, f"feature/{n}").number)
    fake.clear_calls()

    prs = harness.forge.bot_pull_requests(REPO)

    assert sorted(pr.fingerprint or "" for pr in prs) == [f"fp-{n}" for n in range(8)]
    assert fake.count_calls(harness.api, writes=False) == 2


# --- every forge, the local one included ---------------------------------------------------
#
# The local forge has bot branches instead of pull requests: what a branch proposes is read
# from its head commit (the bot's email + the marker in the message). These tests hold for
# all three; the ones above need real pull requests.

BOT_EMAIL = "image-bot@users.fakeforge.invalid"  # the fake's email for commits by `bot`


@dataclass
class AnyForge:
    """A forge of any kind over the fake's repository, and how to push as the bot or a human."""

    kind: str
    fake: FakeForge
    forge: Forge
    git: Git | None = None  # the local forge's clone

    def push(self, branch: str, draft: PullRequestDraft, *, by_bot: bool = True) -> str:
        """Push `branch` with a commit whose message is the draft (as publish/git.py does)."""
        sha = self.fake.commit(
            REPO,
            branch,
            {"deploy/app.yaml": f"image: nginx:{branch}\n"},
            message=f"{draft.title}\n\n{draft.body}",
            start=BASE,
            author=self.fake.bot if by_bot else None,
        )
        if self.git is not None and branch.startswith("image-bot/"):
            self.git.fetch(BASE, "image-bot/")  # the pipeline commits locally, then pushes
            self.git.run("update-ref", f"refs/heads/{branch}", sha)
        return sha

    def open(self, branch: str, draft: PullRequestDraft) -> PullRequest:
        return self.forge.create(REPO, branch, BASE, draft)

    def listing(self) -> list[PullRequest]:
        if self.git is not None:
            self.git.fetch(BASE, "image-bot/")
        return self.forge.bot_pull_requests(REPO)


@pytest.fixture(params=["github", "gitlab", "local"])
def any_forge(request: pytest.FixtureRequest, fake_forge: FakeForge, tmp_path: Path) -> AnyForge:
    fake_forge.create_repo(REPO, {"deploy/app.yaml": "image: nginx:1.25.0\n"}, default_branch=BASE)
    kind: str = request.param
    if kind == "local":
        git = Git.open(fake_forge.git_url(REPO), tmp_path / "clones")
        local = LocalForge(git, base=BASE, branch_prefix="image-bot/", bot_email=BOT_EMAIL)
        return AnyForge(kind, fake_forge, local, git)
    build = _github if kind == "github" else _gitlab
    return AnyForge(kind, fake_forge, build(fake_forge).forge)


def test_every_forge_lists_what_it_created_with_the_fingerprint(any_forge: AnyForge) -> None:
    draft = _draft("fp-7", (NGINX, REDIS))
    sha = any_forge.push("image-bot/nginx", draft)
    created = any_forge.open("image-bot/nginx", draft)
    assert (created.fingerprint, created.head_sha, created.state) == (
        "fp-7",
        sha,
        PullRequestState.OPEN,
    )

    listed = _only(any_forge.listing(), "image-bot/nginx")
    assert (listed.number, listed.fingerprint, listed.proposals, listed.head_sha) == (
        created.number,
        "fp-7",
        (NGINX, REDIS),
        sha,
    )


def test_every_forge_flags_a_bot_branch_it_cannot_recognise(any_forge: AnyForge) -> None:
    human = PullRequestDraft(title="hand-made", body="no marker")
    any_forge.push("image-bot/hand-made", human, by_bot=False)
    any_forge.push("feature/x", _draft("fp-x"), by_bot=False)
    if any_forge.kind != "local":
        any_forge.fake.open_pull(REPO, "image-bot/hand-made", body="no marker")
        any_forge.fake.open_pull(REPO, "feature/x", body=_draft("fp-x").body)

    listed = any_forge.listing()

    assert [(pr.branch, pr.fingerprint) for pr in listed] == [("image-bot/hand-made", None)]


def test_every_forge_lists_twenty_bot_branches_without_writing(any_forge: AnyForge) -> None:
    for n in range(20):
        draft = _draft(f"fp-{n}", labels=())
        any_forge.push(f"image-bot/image-{n:02d}", draft)
        any_forge.open(f"image-bot/image-{n:02d}", draft)
    any_forge.listing()  # (the local forge fetches here)
    any_forge.fake.clear_calls()

    listed = any_forge.forge.bot_pull_requests(REPO)

    assert sorted(pr.fingerprint or "" for pr in listed) == sorted(f"fp-{n}" for n in range(20))
    assert any_forge.fake.count_calls(writes=True) == 0
    assert any_forge.fake.count_calls(writes=False) <= 2


# --- the kinds: what each forge tells the pipeline -----------------------------------------
#
# The pipeline asks a forge's kind (publish.forges.FORGE_KINDS) for the repository's id, what
# git authenticates with, the API URL a web URL implies, the adapter and the committer.


@dataclass(frozen=True)
class KindCase:
    """What one kind must answer."""

    public_api: str | None  # default API URL without a web URL
    self_hosted: tuple[str, str | None]  # a web URL (trailing slash) -> its API URL
    repository_id: str  # for the settings below
    app_credentials: HttpCredentials | None  # git credentials with an App + its token


CLONE_URL = "https://forge.example/acme/deploy.git"
KIND_CASES = {
    "github": KindCase(
        "https://api.github.com",
        ("https://ghe.example.com/", "https://ghe.example.com/api/v3"),
        REPO,
        HttpCredentials("x-access-token", "ghs_installationtoken"),
    ),
    "gitlab": KindCase(
        "https://gitlab.com",
        ("https://gitlab.example.com/", "https://gitlab.example.com"),
        REPO,
        None,
    ),
    "local": KindCase(None, ("https://git.example.com/", None), CLONE_URL, None),
}


def _settings(kind: str, **changes: Any) -> ForgeSettings:
    settings = ForgeSettings(
        type=kind,
        repo_url=CLONE_URL,
        project=REPO,
        base=BASE,
        branch_prefix="image-bot/",
        bot_email=BOT_EMAIL,
        api_url=FORGE_KINDS[kind].default_api_url(None),
    )
    return dataclasses.replace(settings, **changes)


def test_the_table_has_a_kind_for_every_forge_type_the_config_accepts() -> None:
    assert set(FORGE_KINDS) == set(get_args(ForgeType)) == set(KIND_CASES)
    reporting = {name for name, kind in FORGE_KINDS.items() if kind.reports_checks}
    assert reporting == FORGES_WITH_CHECKS  # what `checks: success` is accepted with


@pytest.mark.parametrize("kind", sorted(KIND_CASES))
def test_every_kind_derives_the_api_url_from_the_web_url(kind: str) -> None:
    case = KIND_CASES[kind]
    web_url, api_url = case.self_hosted
    assert FORGE_KINDS[kind].default_api_url(None) == case.public_api
    assert FORGE_KINDS[kind].default_api_url(web_url) == api_url


@pytest.mark.parametrize("kind", sorted(KIND_CASES))
def test_every_kind_names_the_repository_and_git_credentials(kind: str) -> None:
    case, forge_kind = KIND_CASES[kind], FORGE_KINDS[kind]
    assert forge_kind.repository_id(_settings(kind)) == case.repository_id
    assert forge_kind.git_credentials(_settings(kind, token="a-token-in-the-url")) is None
    app = GitHubAppSettings(app_id=1, private_key="-----BEGIN KEY-----", installation_id=2)
    with_app = _settings(kind, token="ghs_installationtoken", app=app)
    assert forge_kind.git_credentials(with_app) == case.app_credentials


@pytest.mark.parametrize("kind", sorted(KIND_CASES))
def test_every_kind_opens_an_adapter_that_lists_the_bots_work(
    kind: str, fake_forge: FakeForge, tmp_path: Path
) -> None:
    fake_forge.create_repo(REPO, {"deploy/app.yaml": "image: nginx:1.25.0\n"}, default_branch=BASE)
    draft = _draft("fp-kind")
    fake_forge.commit(
        REPO, "image-bot/nginx", {"deploy/app.yaml": "image: nginx:1.27.1\n"},
        message=f"{draft.title}\n\n{draft.body}", start=BASE, author=fake_forge.bot,
    )  # fmt: skip
    if kind != "local":
        fake_forge.open_pull(REPO, "image-bot/nginx", body=draft.body)
    api_url = {"github": fake_forge.github_api_url, "gitlab": fake_forge.gitlab_url}.get(kind)
    settings = _settings(
        kind,
        repo_url=fake_forge.git_url(REPO),
        api_url=api_url,
        token=None if kind == "local" else fake_forge.bot_token,
    )
    git = Git.open(settings.repo_url, tmp_path / "clones")
    git.fetch(BASE, "image-bot/")
    forge_kind = FORGE_KINDS[kind]

    forge = forge_kind.open(settings, git, KeptCredentials())
    (listed,) = forge.bot_pull_requests(forge_kind.repository_id(settings))

    assert (listed.branch, listed.fingerprint) == ("image-bot/nginx", "fp-kind")
    assert forge_kind.committer(settings, git, KeptCredentials()) is None  # no App: git pushes
    head = fake_forge.branch_sha(REPO, BASE)
    assert head is not None
    fake_forge.report_status(REPO, head, "ci/deploy", "failure")
    assert forge_kind.reports_checks is (kind != "local")  # a plain remote has no CI results
    reported = CheckState.FAILURE if forge_kind.reports_checks else CheckState.NONE
    assert forge.checks(forge_kind.repository_id(settings), head) is reported
    git.close()


def test_the_quota_left_is_what_the_last_response_said_and_costs_no_request(
    harness: Harness,
) -> None:
    forge = harness.forge
    assert isinstance(forge, RateLimitReporter)
    assert forge.rate_limit_remaining() is None  # nothing asked yet: unknown, and not asked
    assert harness.fake.count_calls(harness.api) == 0
    forge.bot_pull_requests(REPO)
    calls = harness.fake.count_calls(harness.api)
    if harness.api == "github":  # the fake GitHub sends x-ratelimit-* on every response
        assert forge.rate_limit_remaining() == 5000 - harness.fake.state.rate_used
    harness.fake.inject_fault(harness.api, 429, retry_after=7, primary=True)
    with pytest.raises(RateLimited):
        forge.bot_pull_requests(REPO)
    assert forge.rate_limit_remaining() == 0  # both forges' headers on the refusal
    assert harness.fake.count_calls(harness.api) == calls + 1
