"""GitHub's kind: `owner/name` ids, App installation tokens for git, signed commits as the App.

PyGithub (~0.2 s to import) loads inside `open` and `committer` only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from image_bot.errors import ConfigError
from image_bot.publish.committer import BranchCommitter
from image_bot.publish.forge import Forge
from image_bot.publish.forge_kind import (
    ForgeSettings,
    GitHubAppSettings,
    KeptCredentials,
    WriteSpacer,
)
from image_bot.publish.forges.github.spacing import WriteSpacing
from image_bot.publish.git import Git, HttpCredentials

if TYPE_CHECKING:
    from github import Auth

__all__ = ["DEFAULT_API_URL", "GitHubKind"]

DEFAULT_API_URL = "https://api.github.com"
_WRITE_INTERVAL = 1.0  # GitHub asks for a second between content-creating requests (default)


class GitHubKind:
    """github.com or GitHub Enterprise, with a token or as a GitHub App installation."""

    reports_checks = True  # check runs and commit statuses

    def default_api_url(self, url: str | None) -> str | None:
        """`URL/api/v3` for GitHub Enterprise at `url`, else github.com's API."""
        return f"{url.rstrip('/')}/api/v3" if url else DEFAULT_API_URL

    def repository_id(self, settings: ForgeSettings) -> str:
        """`owner/name`."""
        return settings.project

    def git_credentials(self, settings: ForgeSettings) -> HttpCredentials | None:
        """An App's current installation token (the wiring hands it over as `token` next to
        `app`); git sends it per command, never stored in the clone. Else None: a token
        repository's URL carries its own credentials."""
        if settings.app is None or settings.token is None:
            return None
        return HttpCredentials("x-access-token", settings.token)

    def open(self, settings: ForgeSettings, git: Git, kept: KeptCredentials) -> Forge:
        """A GitHubForge authenticated as the App installation, else with the token."""
        from image_bot.publish.forges.github.forge import (  # noqa: PLC0415
            GitHubForge,
            GitHubOptions,
        )

        api_url = _api_url(settings)
        interval = _WRITE_INTERVAL if settings.write_interval is None else settings.write_interval
        # one turn-taking for the writes of every repository on this GitHub, side by side
        # (and of every process sharing the state database, when the wiring shares it)
        spacing = kept.get(
            ("write spacing", api_url, interval), lambda: _spacing(api_url, interval, kept)
        )
        options: GitHubOptions = {
            "api_url": api_url,
            "branch_prefix": settings.branch_prefix,
            "write_interval": interval,
            "write_spacing": spacing,
        }
        if settings.app is not None:
            return GitHubForge(_installation(settings, settings.app, kept), **options)
        if settings.token is None:
            raise ConfigError("a github forge needs token or app", field="forge.token")
        return GitHubForge.with_token(settings.token, **options)

    def committer(
        self, settings: ForgeSettings, git: Git, kept: KeptCredentials
    ) -> BranchCommitter | None:
        """Commits GitHub makes through its API as the App, so it signs them (App only)."""
        if settings.app is None:
            return None
        from image_bot.publish.forges.github.auth import app_client  # noqa: PLC0415
        from image_bot.publish.forges.github.commits import ApiCommitter  # noqa: PLC0415

        auth = _installation(settings, settings.app, kept)
        client = app_client(auth, _api_url(settings))
        return ApiCommitter(client.get_repo(settings.project), git)


def _spacing(api_url: str, interval: float, kept: KeptCredentials) -> WriteSpacer:
    own = WriteSpacing(interval)
    return own if kept.shared_spacing is None else kept.shared_spacing(api_url, own)


def _api_url(settings: ForgeSettings) -> str:
    return settings.api_url or DEFAULT_API_URL


def _installation(
    settings: ForgeSettings, app: GitHubAppSettings, kept: KeptCredentials
) -> Auth.AppInstallationAuth:
    """The installation's auth, kept across passes (one lookup and token per hour)."""
    from image_bot.publish.forges.github.auth import installation_auth  # noqa: PLC0415

    api_url = _api_url(settings)
    key = ("github-app", api_url, app.app_id, app.installation_id or settings.project)
    return kept.get(
        key,
        lambda: installation_auth(
            app.app_id,
            app.private_key,
            installation_id=app.installation_id,
            repo=settings.project,
            api_url=api_url,
        ),
    )
