"""A repository's clone at the base's head and the image references found in it."""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from image_bot.config import ImageSpec, RepositorySpec
from image_bot.edit.find import FindResult
from image_bot.errors import GitError, ImageBotError, redact
from image_bot.model import Occurrence, OccurrenceKind
from image_bot.publish.git import Git, HttpCredentials

__all__ = ["Checkout", "LeftTo", "PathsMissing", "checkout_or_error", "configured_only", "refresh"]

log = logging.getLogger("image_bot.pipeline")


@dataclass
class Checkout:
    """A clone at the base's head, and the references found there."""

    git: Git
    base_sha: str
    found: FindResult


@dataclass(frozen=True, slots=True)
class LeftTo:
    """A repository not checked out: another process, `holder`, holds its lease."""

    holder: str


def checkout_or_error(
    repo: RepositorySpec,
    git: type[Git],
    cache_dir: Path,
    *,
    credentials: HttpCredentials | None = None,
    images: Sequence[ImageSpec] = (),
) -> Checkout | str:
    """The repository's cached clone at the base's head with its references, or why not.

    `credentials`: what git sends beyond the URL (the forge's `git_credentials`), per
    command, never stored in the clone. `images` are the config's image rules (for
    `update: configured`).
    """
    try:
        variant = f"{repo.base}\n{repo.paths}"  # entries sharing a URL get their own worktree
        clone = git.open(repo.url, cache_dir, variant=variant, credentials=credentials)
        return refresh(repo, clone, images)
    except (GitError, PathsMissing) as error:
        log.warning("checkout failed", extra={"repository": redact(repo.url), "error": str(error)})
        return error.message


class PathsMissing(ImageBotError):
    """A `paths` entry names nothing in the repository: a typo or a renamed directory.

    Publishing on what the other entries found would close every pull request the missing
    one accounts for, so the repository is not published at all.
    """


def refresh(repo: RepositorySpec, git: Git, images: Sequence[ImageSpec] = ()) -> Checkout:
    """Fetch, check out the base and find its references (again, after a lost race).

    PathsMissing when a `paths` entry does not exist at the base's head; `images` are the
    config's image rules (for `update: configured`).
    """
    try:
        base_sha = git.fetch(repo.base, repo.branch_prefix)
        git.checkout_detached(base_sha)
    except GitError:
        git.close()
        raise
    scope = repo.scope()
    missing = [p for p in scope.roots if not os.path.lexists(git.workdir / p)]
    if missing:
        git.close()
        names = ", ".join(repr(p) for p in missing)
        verb = "does" if len(missing) == 1 else "do"
        raise PathsMissing(
            f"paths: {names} {verb} not exist in {repo.base} ({base_sha[:12]}); nothing is"
            " published until the path exists or the entry is removed"
        )
    found = scope.find(git.workdir)
    if repo.update == "configured":
        found = configured_only(found, images)
    return Checkout(git, base_sha, found)


def configured_only(found: FindResult, images: Sequence[ImageSpec]) -> FindResult:
    """The references a setter marker, an image rule or a target names (`update: configured`)."""

    def named(occurrence: Occurrence) -> bool:
        return (
            occurrence.policy is not None
            or occurrence.kind is OccurrenceKind.CUSTOM
            or any(rule.matches(occurrence.ref.name) for rule in images)
        )

    return dataclasses.replace(found, occurrences=tuple(filter(named, found.occurrences)))
