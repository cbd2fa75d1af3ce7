"""Frozen settings publishing runs with, built from the config by the layer above (as scanning
receives `RegistrySettings` and deciding `PolicySettings`): publish never sees config models."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CommitSettings", "PublishSettings", "PullRequestSettings"]


@dataclass(frozen=True, slots=True)
class CommitSettings:
    """Who commits, and the commit message template (`config.CommitSpec`)."""

    author_name: str = "image-bot"
    author_email: str = "image-bot@localhost"
    message: str = "{summary}\n\n{changes}"


@dataclass(frozen=True, slots=True)
class PullRequestSettings:
    """How pull requests look (`config.PullRequestSpec`): templates, people, draft, automerge."""

    title: str = "{summary}"
    body: str | None = None
    labels: tuple[str, ...] = ("image-bot",)
    reviewers: tuple[str, ...] = ()
    assignees: tuple[str, ...] = ()
    draft: bool = False
    automerge: bool = False
    # (update type, labels): extra labels when a change of that type is in the PR
    update_type_labels: tuple[tuple[str, tuple[str, ...]], ...] = ()


@dataclass(frozen=True, slots=True)
class PublishSettings:
    """One repository's publishing settings: its base, the bot's branch prefix, commits, PRs."""

    base: str = "main"
    branch_prefix: str = "image-bot/"
    commit: CommitSettings = CommitSettings()
    pull_request: PullRequestSettings = PullRequestSettings()
