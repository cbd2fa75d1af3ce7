"""The forge plug-in: ForgeKind protocol, the frozen settings each kind gets, and their binding.

A kind (`publish.forges.FORGE_KINDS`) answers what the pipeline would otherwise work out
per forge type: the repository's id on the forge, what git authenticates with, the API URL
a web URL implies, the Forge adapter and, where the forge can make commits itself, the
committer. It receives `ForgeSettings`, never config objects; the wiring builds them (and
is the only place that reveals secrets). The pipeline sees a `RepositoryForge`: one
repository's kind bound to its settings.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Protocol, TypeVar, cast

from image_bot.publish.committer import BranchCommitter
from image_bot.publish.forge import Forge
from image_bot.publish.git import Git, HttpCredentials

__all__ = [
    "ForgeKind",
    "ForgeSettings",
    "GitHubAppSettings",
    "KeptCredentials",
    "RepositoryForge",
    "SharedSpacing",
    "WriteSpacer",
]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class GitHubAppSettings:
    """A GitHub App's credentials (the private key revealed and registered as a secret)."""

    app_id: int
    private_key: str = field(repr=False)
    installation_id: int | None = None


@dataclass(frozen=True, slots=True)
class ForgeSettings:
    """One repository's forge as configured; secrets revealed and registered for redaction.

    `api_url` is resolved (the configured one, else the kind's default from `url`; None for
    a forge without an API). `project` is the forge's path (`acme/deploy`), `repo_url` the
    clone URL.
    """

    type: str
    repo_url: str
    project: str
    base: str
    branch_prefix: str
    bot_email: str
    url: str | None = None
    api_url: str | None = None
    token: str | None = field(default=None, repr=False)
    app: GitHubAppSettings | None = None
    write_interval: float | None = None  # seconds between writes to the API; None: the kind's


class WriteSpacer(Protocol):
    """Turn-taking for the writes to one API: each turn starts `interval` seconds after the
    previous one, among everyone sharing the spacer."""

    @property
    def interval(self) -> float:
        """Seconds between two turns."""
        ...

    def wait(self) -> None:
        """Return when the caller's turn has come."""
        ...


SharedSpacing = Callable[[str, WriteSpacer], WriteSpacer]
"""(API URL, this process's own spacer) -> the spacer shared with other processes (the
wiring gives one when processes share a state database)."""


class KeptCredentials:
    """What a kind keeps across the forges it opens: App installation auth and its hour-long
    token (a long-running service keeps one instance, so they are not fetched per pass), and
    what repositories worked on side by side share (GitHub's write spacing; `shared_spacing`
    widens it to every process on one state database)."""

    def __init__(self, shared_spacing: SharedSpacing | None = None) -> None:
        self.shared_spacing = shared_spacing
        self._kept: dict[Hashable, object] = {}
        self._lock = threading.RLock()  # repositories side by side open forges at once

    def get(self, key: Hashable, make: Callable[[], T]) -> T:
        """The value kept under `key`, made (once) by `make` when there is none yet."""
        with self._lock:
            if key not in self._kept:
                self._kept[key] = make()
            return cast("T", self._kept[key])


class ForgeKind(Protocol):
    """One forge type. Stateless: what it keeps goes into the `KeptCredentials` it is given.

    Its module must be cheap to import: the API client loads inside `open`/`committer`.
    """

    @property
    def reports_checks(self) -> bool:
        """Whether its adapter's `checks` can report anything: CI results on commits, which
        the promotion gate `checks: success` needs (a forge without them reports none)."""
        ...

    def default_api_url(self, url: str | None) -> str | None:
        """The API base URL a web base URL implies (None: the public service's), or None
        for a forge without an API."""
        ...

    def repository_id(self, settings: ForgeSettings) -> str:
        """The forge's name for the repository, as the Forge's `repo` arguments take it."""
        ...

    def git_credentials(self, settings: ForgeSettings) -> HttpCredentials | None:
        """What git sends over HTTPS beyond the URL (None: the URL's or git's own)."""
        ...

    def open(self, settings: ForgeSettings, git: Git, kept: KeptCredentials) -> Forge:
        """The Forge adapter (`git`: the repository's clone); ConfigError when a credential
        it needs is missing."""
        ...

    def committer(
        self, settings: ForgeSettings, git: Git, kept: KeptCredentials
    ) -> BranchCommitter | None:
        """A committer that makes commits through the forge (signed), or None if it cannot."""
        ...


@dataclass(frozen=True, slots=True)
class RepositoryForge:
    """A repository's forge kind bound to its settings: what the pipeline asks of a forge."""

    kind: ForgeKind
    settings: ForgeSettings
    kept: KeptCredentials
    on_open: Callable[[Forge], None] | None = None  # told of every adapter opened

    @property
    def repository_id(self) -> str:
        """The forge's name for the repository."""
        return self.kind.repository_id(self.settings)

    def git_credentials(self) -> HttpCredentials | None:
        """What git authenticates the clone with beyond its URL."""
        return self.kind.git_credentials(self.settings)

    def open(self, git: Git) -> Forge:
        """The Forge adapter for the repository cloned in `git`."""
        forge = self.kind.open(self.settings, git, self.kept)
        if self.on_open is not None:
            self.on_open(forge)
        return forge

    def committer(self, git: Git) -> BranchCommitter | None:
        """The forge's own committer (for `commit.signed`), or None."""
        return self.kind.committer(self.settings, git, self.kept)
