"""What a pass did, for people and machines: per branch, per repository, for the whole pass.

The pipeline builds these; the command line prints them, the service records and serves them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from image_bot.model import (
    Change,
    ChangeDetails,
    ScanFailure,
    Skipped,
    StageVersion,
    Waiting,
)

__all__ = ["BranchReport", "ImageFailure", "Outcome", "RepositoryReport", "RunReport"]


@dataclass(frozen=True, slots=True)
class BranchReport:
    """What a pass did (or, dry, would do) with one bot branch: the action and its pull request."""

    branch: str
    action: str  # create | update | keep | close | hold | direct
    group: str = ""
    reason: str = ""
    title: str = ""
    body: str = ""
    changes: tuple[Change, ...] = ()
    details: tuple[ChangeDetails, ...] = ()  # per distinct old -> new (create/update/dry run)
    labels: tuple[str, ...] = ()
    diff: str = ""  # unified diff of the plan against the base (filled for create/update/dry runs)
    head_sha: str | None = None
    url: str = ""
    error: str | None = None  # redacted; the branch failed but the pass went on


@dataclass(frozen=True, slots=True)
class ImageFailure:
    """An image reference of a repository whose update could not be decided this pass."""

    reference: str  # as written in the manifests (`ghcr.io/acme/api:1.4`)
    current: str  # its tag (or digest)
    error: str  # redacted: the registry's or the decision's failure


class Outcome(StrEnum):
    """How a pass (or one repository's part of it) went."""

    OK = "ok"
    PARTIAL = "partial"  # something failed (an image, a branch, a repository); the rest was done
    FAILED = "failed"  # nothing got through
    SKIPPED = "skipped"  # a repository another process was passing (its lease): left to it


@dataclass(frozen=True, slots=True)
class RepositoryReport:
    """One repository's part of a pass: what was found, planned and pushed, and what failed."""

    repository: str  # redacted URL
    base: str
    base_sha: str | None = None
    occurrences: int = 0
    managed: int = 0  # placeholders a kustomization `images:` entry sets (that entry is edited)
    skipped: tuple[Skipped, ...] = ()
    branches: tuple[BranchReport, ...] = ()
    errors: tuple[str, ...] = ()
    attempts: int = 0
    git_commands: int = 0
    git_writes: int = 0  # commits built and pushes made: 0 on a pass with nothing new
    git_calls: Mapping[str, int] = field(default_factory=dict)  # per git subcommand
    stages: tuple[str, ...] = ()  # the repository's stages, in order
    environments: tuple[StageVersion, ...] = ()  # what each stage runs (with stages)
    waiting: tuple[Waiting, ...] = ()  # promotions a gate holds back
    image_failures: tuple[ImageFailure, ...] = ()  # its images the pass could not decide
    held_by: str | None = None  # left to this other process, which held its lease: skipped
    images: tuple[str, ...] | None = None  # the images its references name; None: not found

    @property
    def failed(self) -> bool:
        return bool(self.errors) or any(branch.error for branch in self.branches)

    @property
    def held_note(self) -> str | None:
        """Why the pass left this repository alone (another process held it), or None."""
        if self.held_by is None:
            return None
        return f"held by another process ({self.held_by} is passing it now)"

    @property
    def outcome(self) -> Outcome:
        """`failed`: the repository itself failed; `partial`: an image or a branch did;
        `skipped`: another process was passing it."""
        if self.errors:
            return Outcome.FAILED
        if self.held_by is not None:
            return Outcome.SKIPPED
        if self.image_failures or any(branch.error for branch in self.branches):
            return Outcome.PARTIAL
        return Outcome.OK


@dataclass(frozen=True, slots=True)
class RunReport:
    """A whole pass; `exit_code` is 0 when everything worked and 1 when anything failed."""

    repositories: tuple[RepositoryReport, ...] = ()
    scan_failures: tuple[ScanFailure, ...] = ()
    errors: tuple[str, ...] = ()
    caveats: tuple[str, ...] = ()  # what lost precision (no state file, say)
    warnings: tuple[str, ...] = ()  # what was dropped on the way (invalid tags); not failures
    dry_run: bool = False
    images: int = 0

    @property
    def exit_code(self) -> int:
        failed = self.scan_failures or self.errors
        return 1 if failed or any(repo.failed for repo in self.repositories) else 0

    @property
    def outcome(self) -> Outcome:
        """`ok`; `partial` when something failed but some repository got through (one
        missing image does not fail the pass); `failed` when none did."""
        done = (Outcome.OK, Outcome.SKIPPED)
        if self.exit_code == 0 and all(repo.outcome in done for repo in self.repositories):
            return Outcome.OK
        if any(repo.outcome in (Outcome.OK, Outcome.PARTIAL) for repo in self.repositories):
            return Outcome.PARTIAL
        return Outcome.FAILED
