"""PyGithub as a GitHub App against the fake forge: a real RS256 JWT is verified, installation
tokens reach only the installation's repositories (API and git alike), forged JWTs get 401."""

from __future__ import annotations

import subprocess  # noqa: TID251 - the test drives the real git client
import time
from pathlib import Path

import httpx
import jwt
import pytest
from github import Auth, Github, GithubException, GithubIntegration

from tests.fakeforge.barerepo import git_env
from tests.fakeforge.control import FakeForge

pytestmark = pytest.mark.integration


@pytest.fixture
def app(fake_forge: FakeForge) -> tuple[int, str, int]:
    fake_forge.create_repo("acme/deploy")
    fake_forge.create_repo("acme/secret")
    app_id, key = fake_forge.create_app()
    installation = fake_forge.install_app(app_id, "acme", ["acme/deploy"])
    return app_id, key, installation


def integration(forge: FakeForge, app_id: int, key: str) -> GithubIntegration:
    return GithubIntegration(auth=Auth.AppAuth(app_id, key), base_url=forge.github_api_url)


def test_app_finds_its_installation(fake_forge: FakeForge, app: tuple[int, str, int]) -> None:
    app_id, key, installation = app
    gi = integration(fake_forge, app_id, key)
    assert gi.get_repo_installation("acme", "deploy").id == installation
    assert [i.id for i in gi.get_installations()] == [installation]
    with pytest.raises(GithubException) as caught:
        gi.get_repo_installation("acme", "secret")
    assert caught.value.status == 404


def test_installation_token_reaches_only_installed_repositories(
    fake_forge: FakeForge, app: tuple[int, str, int]
) -> None:
    app_id, key, installation = app
    gh = Github(
        auth=Auth.AppAuth(app_id, key).get_installation_auth(installation),
        base_url=fake_forge.github_api_url,
    )
    assert gh.get_repo("acme/deploy").default_branch == "main"
    with pytest.raises(GithubException) as caught:
        gh.get_repo("acme/secret")
    assert caught.value.status == 404
    installed = integration(fake_forge, app_id, key).get_repo_installation("acme", "deploy")
    assert [r.full_name for r in installed.get_repos()] == ["acme/deploy"]


def test_installation_token_clones_over_git(
    fake_forge: FakeForge, app: tuple[int, str, int], tmp_path: Path
) -> None:
    app_id, key, installation = app
    token = integration(fake_forge, app_id, key).get_access_token(installation).token
    assert token.startswith("ghs_")
    env = git_env()
    ok = ["git", "clone", "-q", fake_forge.git_url("acme/deploy", token), str(tmp_path / "a")]
    assert subprocess.run(ok, capture_output=True, env=env, check=False).returncode == 0
    denied = ["git", "clone", "-q", fake_forge.git_url("acme/secret", token), str(tmp_path / "b")]
    assert subprocess.run(denied, capture_output=True, env=env, check=False).returncode != 0


def test_forged_or_overlong_jwt_is_refused(
    fake_forge: FakeForge, app: tuple[int, str, int]
) -> None:
    app_id, key, _ = app
    now = int(time.time())
    forged = jwt.encode({"iat": now, "exp": now + 60, "iss": str(app_id)}, "s" * 64, "HS256")
    too_long = jwt.encode(
        {"iat": now, "exp": now + 3600, "iss": str(app_id)},
        key,
        "RS256",
    )
    good = jwt.encode({"iat": now, "exp": now + 540, "iss": str(app_id)}, key, "RS256")
    url = f"{fake_forge.github_api_url}/repos/acme/deploy/installation"
    statuses = [
        httpx.get(url, headers={"Authorization": f"Bearer {token}"}).status_code
        for token in (forged, too_long, fake_forge.bot_token, good)
    ]
    assert statuses == [401, 401, 401, 200]
