"""A repository's clone at the base's head and the image references found in it."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from image_bot.config import RepositorySpec
from image_bot.edit.find import FindResult
from image_bot.errors import GitError, redact
from image_bot.publish.git import Git, HttpCredentials

__all__ = ["Checkout", "checkout_or_error", "git_credentials", "refresh"]

log = logging.getLogger("image_bot.pipeline")


@dataclass
class Checkout:
    """A clone at the base's head, and the references found there."""

    git: Git
    base_sha: str
    found: FindResult


def checkout_or_error(repo: RepositorySpec, git: type[Git], cache_dir: Path) -> Checkout | str:
    """The repository's cached clone at the base's head with its references, or why not."""
    try:
        variant = f"{repo.base}\n{repo.paths}"  # entries sharing a URL get their own worktree
        clone = git.open(repo.url, cache_dir, variant=variant, credentials=git_credentials(repo))
        return refresh(repo, clone)
    except GitError as error:
        log.warning("checkout failed", extra={"repository": redact(repo.url), "error": str(error)})
        return error.message


def git_credentials(repo: RepositorySpec) -> HttpCredentials | None:
    """What git authenticates with beyond the URL: a GitHub App's installation token.

    App mode hands the current token over as `forge.token` next to `forge.app` (see
    `app.github_app.authorize`); git sends it per command, never stored in the clone.
    """
    forge = repo.forge
    if forge.type != "github" or forge.app is None or forge.token is None:
        return None
    return HttpCredentials("x-access-token", forge.token.get_secret_value())


def refresh(repo: RepositorySpec, git: Git) -> Checkout:
    """Fetch, check out the base and find its references (again, after a lost race)."""
    try:
        base_sha = git.fetch(repo.base, repo.branch_prefix)
        git.checkout_detached(base_sha)
    except GitError:
        git.close()
        raise
    return Checkout(git, base_sha, repo.scope().find(git.workdir))
