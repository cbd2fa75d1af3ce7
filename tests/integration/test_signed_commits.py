"""`commit.signed`: a GitHub App repository's bot commits are made by GitHub through the Git
Data API (so GitHub signs them), never pushed with git; `image-bot run --once` end to end
against the fake forge (real PyGithub, real App JWT, real git for the fetch)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from image_bot.cli import cli
from tests.fakeforge.control import FakeForge
from tests.support.registry import RunningRegistry
from tests.support.runs import run_once_ok

pytestmark = pytest.mark.integration

REPO = "acme/deploy"


def test_a_signed_repository_gets_its_commits_from_the_api_not_a_push(
    fake_forge: FakeForge, registry: RunningRegistry, repo_name: str, tmp_path: Path
) -> None:
    image = f"{registry.host}/{repo_name}/app"
    registry.push_tags(f"{repo_name}/app", ["1.0.0", "1.1.0"], distinct=True)
    fake_forge.create_repo(REPO, {"deploy/app.yaml": f"image: {image}:1.0.0\n"})
    app_id, key = fake_forge.create_app()
    installation_id = fake_forge.install_app(app_id, "acme", [REPO])
    config = tmp_path / "image-bot.yaml"
    app = {"app_id": app_id, "private_key": key, "installation_id": installation_id}
    document = {
        "registries": [{"host": registry.host, "insecure": True}],
        "repositories": [
            {
                "url": fake_forge.git_url(REPO),  # git still fetches (and cleans up)
                "project": REPO,
                "forge": {"type": "github", "api_url": fake_forge.github_api_url, "app": app},
                "commit": {"signed": True},
            }
        ],
    }
    config.write_text(json.dumps(document))

    fake_forge.clear_calls()
    report = run_once_ok(config, tmp_path)
    (repository,) = report["repositories"]
    (branch,) = repository["branches"]
    assert branch["action"] == "create", branch
    assert "push" not in repository["git_calls"]  # no git push for the branch
    assert fake_forge.count_calls("git", path="receive-pack") == 0  # git received nothing
    assert fake_forge.count_calls("github", writes=True, path="/git/") == 3  # tree, commit, ref
    (pull,) = fake_forge.pulls(REPO)
    head = fake_forge.branch_sha(REPO, pull.head)
    assert head == branch["head_sha"]
    info = fake_forge.repo(REPO).git.commit_info(head)
    assert info.author_name.endswith("[bot]")  # GitHub authored it as the App
    assert fake_forge.read_file(REPO, pull.head, "deploy/app.yaml") == f"image: {image}:1.1.0\n"

    fake_forge.clear_calls()
    again = run_once_ok(config, tmp_path)
    (branch,) = again["repositories"][0]["branches"]
    assert branch["action"] == "keep", branch  # the App's commit is recognised as the bot's
    writes = [c.path for c in fake_forge.calls() if c.is_write]
    assert writes == [f"/app/installations/{installation_id}/access_tokens"]  # a token only
    assert fake_forge.branch_sha(REPO, pull.head) == head


@pytest.mark.parametrize(
    "forge",
    [{"type": "gitlab", "token": "t0ken-value"}, {"type": "github", "token": "t0ken-value"}],
)
def test_signed_commits_without_a_github_app_are_a_config_error(
    forge: dict,  # type: ignore[type-arg]
    tmp_path: Path,
) -> None:
    config = tmp_path / "image-bot.yaml"
    repository = {"url": "https://example.com/acme/deploy.git", "forge": forge}
    config.write_text(json.dumps({"repositories": [{**repository, "commit": {"signed": True}}]}))
    args = ["run", "--once", "--config", str(config), "--no-state", "--cache-dir", str(tmp_path)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert "commit.signed needs forge type github with app" in result.output
