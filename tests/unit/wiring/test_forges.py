"""wiring.forges: a configured repository -> its forge kind's frozen settings."""

from __future__ import annotations

import subprocess  # noqa: TID251 (a fresh interpreter shows what an import loads)
import sys
from pathlib import Path

import pytest

from image_bot.config import RepositorySpec
from image_bot.errors import redact
from image_bot.publish.forge_kind import WriteSpacer
from image_bot.publish.forges.github.kind import GitHubKind
from image_bot.publish.forges.local.kind import LocalKind
from image_bot.publish.git import Git
from image_bot.wiring.forges import Forges, forge_settings


@pytest.mark.parametrize(
    ("forge", "api_url"),
    [
        ("local", None),
        ("github", "https://api.github.com"),
        ({"type": "github", "url": "https://ghe.example.com/"}, "https://ghe.example.com/api/v3"),
        ({"type": "github", "api_url": "https://ghe/api/v3/"}, "https://ghe/api/v3"),
        ("gitlab", "https://gitlab.com"),
        ({"type": "gitlab", "url": "https://gitlab.example.com"}, "https://gitlab.example.com"),
        ({"type": "gitlab", "api_url": "https://gl.example/"}, "https://gl.example"),
    ],
)
def test_the_api_url_is_the_configured_one_else_the_kinds_default(
    forge: object, api_url: str | None
) -> None:
    repository = RepositorySpec.model_validate({"url": "x", "forge": forge})
    assert forge_settings(repository).api_url == api_url


def test_settings_carry_the_repository_and_hide_revealed_secrets() -> None:
    token, key = "ghp_wiringtoken1234", "-----BEGIN KEY----- wiring"
    repository = RepositorySpec.model_validate(
        {
            "url": "https://github.com/acme/deploy.git",
            "base": "trunk",
            "branch_prefix": "bot/",
            "commit": {"author_email": "bot@example.com"},
            "forge": {"type": "github", "token": token},
        }
    )
    settings = forge_settings(repository)
    assert (settings.project, settings.base, settings.branch_prefix, settings.bot_email) == (
        "acme/deploy",
        "trunk",
        "bot/",
        "bot@example.com",
    )
    assert settings.token == token
    assert token not in repr(settings)
    assert token not in redact(f"failed with {token}")  # registered for redaction

    app = {"app_id": 3, "private_key": key, "installation_id": 4}
    with_app = RepositorySpec.model_validate(
        {"url": repository.url, "forge": {"type": "github", "app": app}}
    )
    app_settings = forge_settings(with_app).app
    assert app_settings is not None
    assert (app_settings.app_id, app_settings.installation_id) == (3, 4)
    assert key not in repr(forge_settings(with_app))


def test_each_repository_is_bound_to_its_kind() -> None:
    forges = Forges()
    local = forges(RepositorySpec.model_validate({"url": "/srv/git/deploy.git"}))
    github = forges(
        RepositorySpec.model_validate(
            {"url": "https://github.com/acme/deploy.git", "forge": {"type": "github"}}
        )
    )
    assert isinstance(local.kind, LocalKind)
    assert local.repository_id == "/srv/git/deploy.git"
    assert isinstance(github.kind, GitHubKind)
    assert github.repository_id == "acme/deploy"
    assert local.kept is github.kept  # one Forges keeps App credentials across passes


def test_the_table_wiring_and_pipeline_load_no_forge_client() -> None:
    code = (
        "import sys, image_bot.publish.forges, image_bot.wiring.forges, image_bot.pipeline\n"
        "print(sorted(m for m in ('github', 'gitlab') if m in sys.modules))"
    )
    found = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert found.strip() == "[]"


def test_github_writes_take_turns_at_the_interval_the_config_gives(tmp_path: Path) -> None:
    """Repositories on one GitHub API with one `write_interval` share one turn-taking, at
    that pace (a PostgreSQL state widens it to every process: `shared_spacing`)."""
    spacers: list[tuple[str, float]] = []

    def shared(api_url: str, own: WriteSpacer) -> WriteSpacer:
        spacers.append((api_url, own.interval))
        return own

    forges = Forges(shared)

    def open_forge(name: str, **forge: object) -> None:
        spec = {"type": "github", "token": "ghp_wiringtoken5678", **forge}
        repository = RepositorySpec.model_validate(
            {"url": f"https://ghe.example.com/acme/{name}.git", "forge": spec}
        )
        forges(repository).open(Git(tmp_path, repository.url))

    open_forge("a", url="https://ghe.example.com", write_interval="0s")
    open_forge("b", url="https://ghe.example.com", write_interval=0)
    open_forge("c", url="https://ghe.example.com")
    open_forge("d", url="https://ghe.example.com", write_interval=0.25)
    open_forge("e")
    assert spacers == [
        ("https://ghe.example.com/api/v3", 0.0),
        ("https://ghe.example.com/api/v3", 1.0),  # GitHub's advice, by default
        ("https://ghe.example.com/api/v3", 0.25),
        ("https://api.github.com", 1.0),
    ]
