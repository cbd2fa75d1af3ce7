"""Forge protocol (pull/merge requests) and PullRequestDraft; pushing branches is git's job."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from image_bot.model import CheckState, Comment, Issue, PullRequest

__all__ = ["Forge", "PullRequestDraft", "RateLimitReporter"]


@dataclass(frozen=True, slots=True)
class PullRequestDraft:
    """What the bot wants a pull request to say (the body carries the hidden marker)."""

    title: str
    body: str
    labels: tuple[str, ...] = ()
    reviewers: tuple[str, ...] = ()
    assignees: tuple[str, ...] = ()
    draft: bool = False


class Forge(Protocol):
    """Pull/merge requests on one forge. Implementations raise only ForgeError subclasses.

    `repo` is the forge's name for the repository (`owner/name` on GitHub, the project path
    on GitLab, the remote URL for the local forge). Calls are synchronous: PyGithub and
    python-gitlab are.
    """

    name: str

    def bot_pull_requests(self, repo: str) -> list[PullRequest]:
        """The bot's open and recently closed pull requests, in one listing call."""
        ...

    def create(self, repo: str, branch: str, base: str, draft: PullRequestDraft) -> PullRequest:
        """Open a pull request from `branch` (already pushed) into `base`."""
        ...

    def update(self, repo: str, pr: PullRequest, draft: PullRequestDraft) -> PullRequest:
        """Bring title, body, labels, reviewers, assignees and draft state in line with `draft`."""
        ...

    def comment(self, repo: str, pr: PullRequest, body: str) -> None:
        """Add a comment to the pull request."""
        ...

    def close(self, repo: str, pr: PullRequest, comment: str | None = None) -> None:
        """Close without merging, after an optional comment."""
        ...

    def checks(self, repo: str, sha: str) -> CheckState:
        """What CI reported on commit `sha`, all taken together (GitHub check runs and the
        combined status; GitLab's newest pipeline and the commit statuses)."""
        ...

    def enable_automerge(self, repo: str, pr: PullRequest) -> None:
        """Merge once the checks pass (GitHub auto-merge, GitLab merge when pipeline succeeds)."""
        ...

    # --- the dashboard and commands (docs/commands.md) ---------------------------------------

    def dashboard(self, repo: str, label: str) -> Issue | None:
        """The bot's open dashboard issue: labelled `label`, carrying the memory marker."""
        ...

    def open_issue(self, repo: str, title: str, body: str, labels: tuple[str, ...]) -> Issue:
        """Open an issue (the dashboard)."""
        ...

    def edit_issue(self, repo: str, issue: Issue, title: str, body: str) -> Issue:
        """Rewrite an issue's title and body."""
        ...

    def comment_counts(self, repo: str) -> Mapping[int, int]:
        """How many comments each (recently updated) open pull request has, by number."""
        ...

    def comments(self, repo: str, number: int, *, issue: bool) -> list[Comment]:
        """The comments of pull request (or, `issue`, issue) `number`, oldest first."""
        ...

    def reply(self, repo: str, number: int, body: str, *, issue: bool) -> None:
        """Comment on pull request (or, `issue`, issue) `number`."""
        ...

    def can_write(self, repo: str, comment: Comment) -> bool:
        """Whether the comment's author may push to the repository (asked once per author)."""
        ...


@runtime_checkable
class RateLimitReporter(Protocol):
    """A forge that knows how many API calls its credentials have left (for the metrics)."""

    def rate_limit_remaining(self) -> int | None:
        """What the last response said was left of the rate-limit window; None: not known.

        Never sends a request of its own."""
        ...
