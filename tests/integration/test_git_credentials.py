"""Git credentials are sent per command, never stored: real git over HTTP to the fake forge,
whose git endpoint checks the token; `image-bot run --once` and GitHub App mode end to end."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from pydantic import SecretStr

from image_bot.cli import cli
from image_bot.config import Config, GitHubAppServiceSpec
from image_bot.errors import GitError
from image_bot.github_app.installations import GitHubAppRepositories
from image_bot.pipeline.checkout import checkout_or_error
from image_bot.publish.git import Author, Git, HttpCredentials
from image_bot.wiring.forges import Forges
from tests.fakeforge.control import FakeForge
from tests.support.registry import RunningRegistry
from tests.support.runs import github_repository

pytestmark = pytest.mark.integration

REPO = "acme/deploy"
WHEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def stored_config(cache: Path) -> str:
    """Every cached clone's `.git/config`, concatenated."""
    return "".join(path.read_text() for path in sorted(cache.glob("*/.git/config")))


def test_a_token_in_the_url_is_used_per_command_and_never_stored(
    fake_forge: FakeForge, tmp_path: Path
) -> None:
    fake_forge.create_repo(REPO, {"a.yaml": "a: 1\n"})
    cache = tmp_path / "cache"
    git = Git.open(fake_forge.git_url(REPO), cache)
    base = git.fetch("main", "image-bot/")
    sha = git.commit(
        "image-bot/a", base, {"a.yaml": "a: 2\n"}, "two", Author("b", "b@x"), when=WHEN
    )
    git.push(sha, "image-bot/a", expected=None)
    git.close()
    assert fake_forge.branch_sha(REPO, "image-bot/a") == sha
    assert fake_forge.bot_token not in stored_config(cache)
    assert "127.0.0.1" in stored_config(cache)  # the remote is there, without credentials

    renewed = Git.open(fake_forge.git_url(REPO, token=fake_forge.human_token), cache)
    assert renewed.workdir == git.workdir  # a new token reuses the clone
    assert renewed.fetch("main", "image-bot/") == base
    renewed.close()
    assert fake_forge.human_token not in stored_config(cache)
    assert len(list(cache.glob("*/.git"))) == 1


def test_explicit_credentials_authenticate_a_url_without_any(
    fake_forge: FakeForge, tmp_path: Path
) -> None:
    fake_forge.create_repo(REPO, {"a.yaml": "a: 1\n"})
    bare = fake_forge.git_url(REPO, token="")
    refused = Git.open(bare, tmp_path / "cache")
    with pytest.raises(GitError):
        refused.fetch("main", "")
    refused.close()

    token = HttpCredentials("x-access-token", fake_forge.bot_token)
    git = Git.open(bare, tmp_path / "cache", credentials=token)
    assert git.fetch("main", "") == fake_forge.branch_sha(REPO, "main")
    git.close()


def test_a_wrong_token_fails_without_showing_it(fake_forge: FakeForge, tmp_path: Path) -> None:
    fake_forge.create_repo(REPO, {"a.yaml": "a: 1\n"})
    git = Git.open(fake_forge.git_url(REPO, token="wrong-token-123456"), tmp_path / "cache")
    with pytest.raises(GitError) as caught:
        git.fetch("main", "")
    git.close()
    assert "wrong-token-123456" not in str(caught.value)


def test_a_run_leaves_no_token_in_the_clone(
    fake_forge: FakeForge, registry: RunningRegistry, repo_name: str, tmp_path: Path
) -> None:
    config = tmp_path / "image-bot.yaml"
    github_repository(fake_forge, registry, repo_name, config, repository=REPO)
    cache = tmp_path / "cache"
    args = ["run", "--once", "--json", "--config", str(config), "--no-state",
            "--cache-dir", str(cache)]  # fmt: skip
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    report = json.loads(result.stdout)
    assert result.exit_code == 0, report
    (branch,) = report["repositories"][0]["branches"]
    assert branch["action"] == "create"  # pushed over HTTP with the token
    assert fake_forge.bot_token not in stored_config(cache)
    assert stored_config(cache)


def test_app_mode_hands_git_the_installation_token_not_a_url(
    fake_forge: FakeForge, tmp_path: Path
) -> None:
    fake_forge.create_repo(REPO, {"a.yaml": "a: 1\n"})
    app_id, key = fake_forge.create_app()
    fake_forge.install_app(app_id, "acme", [REPO])
    spec = GitHubAppServiceSpec.model_validate(
        {"app_id": app_id, "private_key": key, "api_url": fake_forge.github_api_url}
    )
    app = GitHubAppRepositories(spec)
    config = app.authorize(app.expand(Config.model_validate({"repositories": []})))
    (repo,) = config.repositories
    assert "@" not in repo.url  # the URL is the plain clone URL
    credentials = Forges()(repo).git_credentials()
    assert credentials is not None
    assert isinstance(repo.forge.token, SecretStr)
    checkout = checkout_or_error(repo, Git, tmp_path / "cache", credentials=credentials)
    assert not isinstance(checkout, str), checkout
    checkout.git.close()
    assert credentials.password not in stored_config(tmp_path / "cache")
