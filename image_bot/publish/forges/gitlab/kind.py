"""GitLab's kind: project paths as ids, the web URL is the API's base; merge requests.

python-gitlab loads inside `open` only.
"""

from __future__ import annotations

from image_bot.errors import ConfigError
from image_bot.publish.committer import BranchCommitter
from image_bot.publish.forge import Forge
from image_bot.publish.forge_kind import ForgeSettings, KeptCredentials
from image_bot.publish.git import Git, HttpCredentials

__all__ = ["DEFAULT_URL", "GitLabKind"]

DEFAULT_URL = "https://gitlab.com"


class GitLabKind:
    """gitlab.com or a self-hosted GitLab, with a personal, project or group access token."""

    reports_checks = True  # pipelines and commit statuses

    def default_api_url(self, url: str | None) -> str | None:
        """The web base URL (python-gitlab adds `/api/v4`), else gitlab.com."""
        return (url or DEFAULT_URL).rstrip("/")

    def repository_id(self, settings: ForgeSettings) -> str:
        """The project path (`group/sub/deploy`)."""
        return settings.project

    def git_credentials(self, settings: ForgeSettings) -> HttpCredentials | None:
        """None: the clone URL carries its own credentials."""
        return None

    def open(self, settings: ForgeSettings, git: Git, kept: KeptCredentials) -> Forge:
        """A GitLabForge with the token."""
        from image_bot.publish.forges.gitlab.forge import GitLabForge  # noqa: PLC0415

        if settings.token is None:
            raise ConfigError("a gitlab forge needs a token", field="forge.token")
        return GitLabForge(
            settings.token,
            url=settings.api_url or DEFAULT_URL,
            branch_prefix=settings.branch_prefix,
        )

    def committer(
        self, settings: ForgeSettings, git: Git, kept: KeptCredentials
    ) -> BranchCommitter | None:
        """None: GitLab has no signed commits through its API here; git pushes."""
        return None
