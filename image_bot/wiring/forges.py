"""Composition: the Forge (and pull-request limits) for one configured repository."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from image_bot.config import GitHubAppSpec, RepositorySpec
from image_bot.errors import ConfigError
from image_bot.publish.committer import BranchCommitter
from image_bot.publish.forge import Forge, RateLimitReporter
from image_bot.publish.forges.local import LocalForge
from image_bot.publish.git import Git

if TYPE_CHECKING:
    from github import Auth

__all__ = ["Forges"]


class Forges:
    """Builds each repository's Forge (a `pipeline.ForgeFactory`); credentials revealed here only.

    A long-running service keeps one instance: GitHub App installation credentials (and
    their hour-long tokens, renewed by PyGithub) are then reused across passes instead of
    costing a token request, and an installation lookup, per repository per pass.
    """

    def __init__(self) -> None:
        self._installations: dict[tuple[str, int, int | str], Auth.AppInstallationAuth] = {}
        self._built: list[tuple[str, str, RateLimitReporter]] = []  # (name, API host, forge)

    def __call__(self, repository: RepositorySpec, git: Git) -> Forge:
        """The forge `repository.forge` names; ConfigError when a credential is missing.

        `git` is the repository's clone; only the local forge (branches only) uses it.
        """
        forge = self._build(repository, git)
        if isinstance(forge, RateLimitReporter):
            host = urlsplit(repository.forge.api_base or "").netloc
            self._built.append((forge.name, host, forge))
        return forge

    def rate_limits(self) -> dict[tuple[str, str], int]:
        """(forge name, API host) -> the smallest remaining quota that the forges built since
        the last call saw in their last response (the metrics' gauge); then forgets them."""
        quotas: dict[tuple[str, str], int] = {}
        built, self._built = self._built, []
        for name, host, forge in built:
            remaining = forge.rate_limit_remaining()
            if remaining is not None:
                quotas[(name, host)] = min(remaining, quotas.get((name, host), remaining))
        return quotas

    def _build(self, repository: RepositorySpec, git: Git) -> Forge:
        forge = repository.forge
        prefix = repository.branch_prefix
        if forge.type == "local":
            return LocalForge(
                git=git,
                base=repository.base,
                branch_prefix=prefix,
                bot_email=repository.commit.author_email,
            )
        # The API clients load only when a repository uses them (PyGithub alone takes ~0.2 s).
        from image_bot.publish.forges.github.forge import GitHubForge  # noqa: PLC0415
        from image_bot.publish.forges.gitlab.forge import GitLabForge  # noqa: PLC0415

        api_url = forge.api_base or ""
        if forge.type == "github":
            if forge.app is not None:
                auth = self._installation(forge.app, api_url, repository.project_name)
                return GitHubForge(auth, api_url=api_url, branch_prefix=prefix)
            if forge.token is None:
                raise ConfigError("a github forge needs token or app", field="forge.token")
            return GitHubForge.with_token(
                forge.token.get_secret_value(), api_url=api_url, branch_prefix=prefix
            )
        if forge.token is None:
            raise ConfigError("a gitlab forge needs a token", field="forge.token")
        return GitLabForge(forge.token.get_secret_value(), url=api_url, branch_prefix=prefix)

    def committer(self, repository: RepositorySpec, git: Git) -> BranchCommitter | None:
        """Commits made by GitHub through its API as the App (signed): a `commit.signed`
        repository's BranchCommitter (None for a forge that is not a GitHub App)."""
        forge = repository.forge
        if forge.type != "github" or forge.app is None:
            return None
        from github import Github  # noqa: PLC0415

        from image_bot.publish.forges.github.commits import ApiCommitter  # noqa: PLC0415

        api_url = forge.api_base or ""
        auth = self._installation(forge.app, api_url, repository.project_name)
        client = Github(
            auth=auth,
            base_url=api_url.rstrip("/"),
            retry=2,
            lazy=True,
            seconds_between_requests=None,
            seconds_between_writes=None,
        )
        return ApiCommitter(client.get_repo(repository.project_name), git)

    def _installation(
        self, app: GitHubAppSpec, api_url: str, project: str
    ) -> Auth.AppInstallationAuth:
        from image_bot.publish.forges.github.auth import installation_auth  # noqa: PLC0415

        key = (api_url, app.app_id, app.installation_id or project)
        if key not in self._installations:
            self._installations[key] = installation_auth(
                app.app_id,
                app.private_key.get_secret_value(),
                installation_id=app.installation_id,
                repo=project,
                api_url=api_url,
            )
        return self._installations[key]
