"""How a branch's commit is made when git does not push it: the BranchCommitter strategy.

By default the Publisher commits with `Git.commit` and pushes with a lease. A repository with
`commit.signed` has its commits made by the forge instead (GitHub's Git Data API, as the App,
so GitHub signs them); the wiring builds that committer, the pipeline only passes it on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

__all__ = ["BranchCommitter"]


class BranchCommitter(Protocol):
    """Makes a commit on `parent` and moves a remote branch to it."""

    def commit_branch(
        self,
        branch: str,
        *,
        parent: str,
        files: Mapping[str, str],
        message: str,
        expected: str | None,
    ) -> str:
        """Commit `files` (path -> new text) on `parent`, point `branch` at it only if it is
        still at `expected` (None: absent; else PushRejected); the new commit's sha."""
        ...

    def owns(self, author_email: str) -> bool:
        """Whether a commit by `author_email` may be the bot's (its marker decides the rest)."""
        ...
