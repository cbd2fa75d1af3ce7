"""app.forges: the configured repository decides which Forge talks to which server."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from image_bot.config import RepositorySpec
from image_bot.errors import ConfigError, ForgeAuthError
from image_bot.model import PullRequestState
from image_bot.publish.forge import PullRequestDraft
from image_bot.publish.forges.github.forge import GitHubForge
from image_bot.publish.forges.gitlab.forge import GitLabForge
from image_bot.publish.forges.local.forge import LocalForge
from image_bot.publish.git import Git
from image_bot.publish.limits import PullRequestLimits
from image_bot.publish.pr.marker import PrMarker, encode_pr_marker
from image_bot.wiring.forges import Forges
from tests.fakeforge.control import FakeForge

pytestmark = pytest.mark.integration

REPO = "acme/deploy"


def _spec(fake: FakeForge, forge: dict[str, object]) -> RepositorySpec:
    return RepositorySpec.model_validate(
        {"url": fake.git_url(REPO, token=""), "forge": forge, "branch_prefix": "bot/"}
    )


def _open_bot_pr(fake: FakeForge) -> None:
    fake.create_repo(REPO)
    fake.commit(REPO, "bot/nginx", {"a.yaml": "image: nginx:2\n"}, start="main")
    fake.open_pull(REPO, "bot/nginx", body=encode_pr_marker(PrMarker("nginx", "fp-1")))


@pytest.mark.parametrize("kind", ["github", "gitlab"])
def test_the_configured_forge_lists_the_bots_prs_with_its_prefix(
    fake_forge: FakeForge, tmp_path: Path, kind: str
) -> None:
    _open_bot_pr(fake_forge)
    url = fake_forge.github_api_url if kind == "github" else fake_forge.gitlab_url
    spec = _spec(fake_forge, {"type": kind, "api_url": url, "token": fake_forge.bot_token})

    forge = Forges()(spec).open(Git(tmp_path, spec.url))

    assert isinstance(forge, GitHubForge if kind == "github" else GitLabForge)
    (pr,) = forge.bot_pull_requests(spec.project_name)
    assert (pr.branch, pr.fingerprint, pr.state) == ("bot/nginx", "fp-1", PullRequestState.OPEN)


def test_a_wrong_token_in_the_config_is_an_auth_error(
    fake_forge: FakeForge, tmp_path: Path
) -> None:
    fake_forge.create_repo(REPO)
    spec = _spec(
        fake_forge,
        {"type": "github", "api_url": fake_forge.github_api_url, "token": "not-the-token"},
    )
    with pytest.raises(ForgeAuthError) as caught:
        Forges()(spec).open(Git(tmp_path, spec.url)).bot_pull_requests(REPO)
    assert "not-the-token" not in str(caught.value)


def test_local_needs_no_server(fake_forge: FakeForge, tmp_path: Path) -> None:
    spec = RepositorySpec.model_validate({"url": str(tmp_path / "remote.git")})
    forge = Forges()(spec).open(Git(tmp_path / "clone", spec.url))
    assert isinstance(forge, LocalForge)
    assert fake_forge.calls() == []


@pytest.mark.parametrize("kind", ["github", "gitlab"])
def test_a_forge_without_credentials_is_a_config_error(tmp_path: Path, kind: str) -> None:
    spec = RepositorySpec.model_validate(
        {"url": "https://forge.example/acme/deploy.git", "forge": {"type": kind}}
    )
    with pytest.raises(ConfigError, match="token"):
        Forges()(spec).open(Git(tmp_path, spec.url))


def test_the_hourly_limit_counts_the_prs_the_forge_lists_as_created_this_hour(
    fake_forge: FakeForge, tmp_path: Path
) -> None:
    fake_forge.create_repo(REPO)
    spec = RepositorySpec.model_validate(
        {
            "url": fake_forge.git_url(REPO, token=""),
            "forge": {
                "type": "gitlab",
                "api_url": fake_forge.gitlab_url,
                "token": fake_forge.bot_token,
            },
        }
    )
    forge = Forges()(spec).open(Git(tmp_path, spec.url))
    for n in range(2):
        branch = f"image-bot/img-{n}"
        fake_forge.commit(REPO, branch, {"a.yaml": str(n)}, start="main")
        marker = encode_pr_marker(PrMarker(f"img-{n}", f"fp-{n}"))
        forge.create(REPO, branch, "main", PullRequestDraft(title=f"PR {n}", body=marker))

    existing = forge.bot_pull_requests(REPO)

    limits = PullRequestLimits(max_open=5, max_per_hour=2)
    assert limits.remaining(existing, datetime.now(UTC)) == 0  # two opened within the hour


def test_a_service_reuses_the_app_installation_token_across_passes(
    fake_forge: FakeForge, tmp_path: Path
) -> None:
    create_app = getattr(fake_forge, "create_app", None)
    if create_app is None:
        pytest.xfail("this fake forge has no GitHub Apps")
    _open_bot_pr(fake_forge)
    app_id, key = create_app()
    fake_forge.install_app(app_id, "acme", [REPO])
    app = {"app_id": app_id, "private_key": key}  # installation looked up from the repo
    spec = _spec(fake_forge, {"type": "github", "api_url": fake_forge.github_api_url, "app": app})

    forges = Forges()
    for _ in range(2):  # two passes
        (pr,) = forges(spec).open(Git(tmp_path, spec.url)).bot_pull_requests(REPO)
        assert pr.fingerprint == "fp-1"

    assert fake_forge.count_calls("github", path="/installation$") == 1
    assert fake_forge.count_calls("github", path="access_tokens") == 1
    assert fake_forge.count_calls("github", path="/pulls") == 2
