"""The local forge's kind: the remote URL is the repository's id; no API, no credentials."""

from __future__ import annotations

from image_bot.publish.committer import BranchCommitter
from image_bot.publish.forge import Forge
from image_bot.publish.forge_kind import ForgeSettings, KeptCredentials
from image_bot.publish.forges.local.forge import LocalForge
from image_bot.publish.git import Git, HttpCredentials

__all__ = ["LocalKind"]


class LocalKind:
    """Bot branches on the remote the clone was fetched from (`forge: local`)."""

    reports_checks = False  # a plain remote has no CI results

    def default_api_url(self, url: str | None) -> str | None:
        """None: a plain remote has no API."""
        return None

    def repository_id(self, settings: ForgeSettings) -> str:
        """The remote's URL (a plain remote has no project path)."""
        return settings.repo_url

    def git_credentials(self, settings: ForgeSettings) -> HttpCredentials | None:
        """None: git uses the URL's credentials or its own."""
        return None

    def open(self, settings: ForgeSettings, git: Git, kept: KeptCredentials) -> Forge:
        """A LocalForge over `git`'s remote."""
        return LocalForge(
            git=git,
            base=settings.base,
            branch_prefix=settings.branch_prefix,
            bot_email=settings.bot_email,
        )

    def committer(
        self, settings: ForgeSettings, git: Git, kept: KeptCredentials
    ) -> BranchCommitter | None:
        """None: git commits and pushes."""
        return None
