"""A repository's clone at the base's head and the image references found in it."""

from __future__ import annotations

import dataclasses
import logging
import posixpath
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from image_bot.config import ImageSpec, RepositorySpec
from image_bot.edit.find import DEFAULT_INCLUDE, CustomTarget, FindResult, find_references
from image_bot.edit.managed import Managed
from image_bot.errors import GitError, redact
from image_bot.model import Occurrence, OccurrenceKind, Part, Skipped
from image_bot.publish.git import Git, HttpCredentials

__all__ = ["Checkout", "checkout_or_error", "configured_only", "git_credentials", "refresh"]

log = logging.getLogger("image_bot.pipeline")


@dataclass
class Checkout:
    """A clone at the base's head, and the references found there."""

    git: Git
    base_sha: str
    found: FindResult


def checkout_or_error(
    repo: RepositorySpec, git: type[Git], cache_dir: Path, images: Sequence[ImageSpec] = ()
) -> Checkout | str:
    """The repository's cached clone at the base's head with its references, or why not.

    `images` are the config's image rules (for `update: configured`)."""
    try:
        variant = f"{repo.base}\n{repo.paths}"  # entries sharing a URL get their own worktree
        clone = git.open(repo.url, cache_dir, variant=variant, credentials=git_credentials(repo))
        return refresh(repo, clone, images)
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


def refresh(repo: RepositorySpec, git: Git, images: Sequence[ImageSpec] = ()) -> Checkout:
    """Fetch, check out the base and find its references (again, after a lost race)."""
    try:
        base_sha = git.fetch(repo.base, repo.branch_prefix)
        git.checkout_detached(base_sha)
    except GitError:
        git.close()
        raise
    found = _find(git.workdir, repo)
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


def _under(glob: str, directory: str) -> str:
    return glob if directory == "." else glob.removeprefix(f"{directory}/")


def _find(root: Path, repo: RepositorySpec) -> FindResult:
    occurrences: list[Occurrence] = []
    skipped: list[Skipped] = []
    managed: list[Managed] = []
    for directory in dict.fromkeys(posixpath.normpath(p) for p in repo.paths):
        targets = [
            CustomTarget(
                files=_under(t.files, directory),
                path=t.path,
                image=t.image,
                part=Part.TAG if t.part == "tag" else Part.WHOLE,
            )
            for t in repo.targets
        ]
        found = find_references(
            root / directory,
            include=repo.include or DEFAULT_INCLUDE,
            exclude=[_under(glob, directory) for glob in repo.exclude],
            extra_names=repo.extra_names,
            targets=targets,
            max_bytes=repo.max_file_bytes,
        )
        prefix = "" if directory == "." else f"{directory}/"
        occurrences.extend(dataclasses.replace(o, path=prefix + o.path) for o in found.occurrences)
        skipped.extend(dataclasses.replace(s, path=prefix + s.path) for s in found.skipped)
        managed.extend(
            dataclasses.replace(
                m, occurrence=dataclasses.replace(m.occurrence, path=prefix + m.occurrence.path)
            )
            for m in found.managed
        )
    return FindResult(tuple(occurrences), tuple(skipped), managed=tuple(managed))
