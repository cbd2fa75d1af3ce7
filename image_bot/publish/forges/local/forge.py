"""Branch-only forge for a plain git remote (cron/CI and tests): a real Forge, not a mock.

Its "pull requests" are the bot branches on the remote. One is recognised as the bot's when
the branch head was committed by the bot's email and carries the hidden marker in its
message; anything else on a bot branch (a human's commit) has no fingerprint, so it is held,
never overwritten. `create`/`update` only record the draft: the run report shows it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field

from image_bot.errors import ForgeError
from image_bot.model import CheckState, Comment, Issue, PullRequest, PullRequestState
from image_bot.publish.forge import PullRequestDraft
from image_bot.publish.git import BranchHead, Git
from image_bot.publish.pr.marker import decode_pr_marker

__all__ = ["LocalForge", "Recorded"]


@dataclass(frozen=True, slots=True)
class Recorded:
    """One thing the local forge was asked to do (what a real forge would have shown)."""

    action: str
    branch: str
    title: str = ""
    body: str = ""


@dataclass
class LocalForge:
    """Pull requests as branches of the remote `git` was fetched from."""

    git: Git
    base: str
    branch_prefix: str
    bot_email: str
    name: str = "local"
    recorded: list[Recorded] = field(default_factory=list)

    def bot_pull_requests(self, repo: str) -> list[PullRequest]:
        """One open pull request per fetched bot branch (no git call beyond a ref listing)."""
        return [
            self._pull_request(repo, head) for head in self.git.branch_heads(self.branch_prefix)
        ]

    def create(self, repo: str, branch: str, base: str, draft: PullRequestDraft) -> PullRequest:
        """Record the draft for the already pushed `branch`."""
        self.recorded.append(Recorded("create", branch, draft.title, draft.body))
        return self._after_push(repo, branch, base, draft)

    def update(self, repo: str, pr: PullRequest, draft: PullRequestDraft) -> PullRequest:
        """Record the new draft for `pr`'s branch (already pushed)."""
        self.recorded.append(Recorded("update", pr.branch, draft.title, draft.body))
        return self._after_push(repo, pr.branch, pr.base, draft)

    def comment(self, repo: str, pr: PullRequest, body: str) -> None:
        """Record the comment: a plain remote has nowhere to put it."""
        self.recorded.append(Recorded("comment", pr.branch, body=body))

    def close(self, repo: str, pr: PullRequest, comment: str | None = None) -> None:
        """Delete the bot branch, only if it is still where the bot left it."""
        self.git.delete_remote_branch(pr.branch, expected=pr.head_sha)
        self.recorded.append(Recorded("close", pr.branch, body=comment or ""))

    def checks(self, repo: str, sha: str) -> CheckState:
        """A plain remote has no checks: none reported."""
        return CheckState.NONE

    def enable_automerge(self, repo: str, pr: PullRequest) -> None:
        """Record the request: merging is for whoever reviews the branch."""
        self.recorded.append(Recorded("automerge", pr.branch))

    # --- a plain remote has no issues and no comments: no dashboard, no commands -----------

    def dashboard(self, repo: str, label: str) -> Issue | None:
        """None: a plain remote has no issues."""
        return None

    def open_issue(self, repo: str, title: str, body: str, labels: tuple[str, ...]) -> Issue:
        """Refused: a plain remote has no issues."""
        raise ForgeError(self.name, repo, "a plain git remote has no issues (no dashboard)")

    def edit_issue(self, repo: str, issue: Issue, title: str, body: str) -> Issue:
        """Refused: a plain remote has no issues."""
        raise ForgeError(self.name, repo, "a plain git remote has no issues (no dashboard)")

    def comment_counts(self, repo: str) -> Mapping[int, int]:
        """Nothing: branches carry no comments."""
        return {}

    def comments(self, repo: str, number: int, *, issue: bool) -> list[Comment]:
        """Nothing: branches carry no comments."""
        return []

    def reply(self, repo: str, number: int, body: str, *, issue: bool) -> None:
        """Record the reply (nowhere to post it)."""
        self.recorded.append(Recorded("reply", str(number), body=body))

    def can_write(self, repo: str, comment: Comment) -> bool:
        """False: nobody comments on a plain remote."""
        return False

    def _pull_request(self, repo: str, head: BranchHead) -> PullRequest:
        marker = decode_pr_marker(head.message) if head.author_email == self.bot_email else None
        return PullRequest(
            number=_number(head.branch),
            url=f"{repo}#{head.branch}",
            branch=head.branch,
            base=self.base,
            head_sha=head.sha,
            state=PullRequestState.OPEN,
            title=head.message.split("\n", 1)[0],
            fingerprint=marker.fingerprint if marker else None,
            proposals=marker.proposals if marker else (),
        )

    def _after_push(
        self, repo: str, branch: str, base: str, draft: PullRequestDraft
    ) -> PullRequest:
        marker = decode_pr_marker(draft.body)
        return PullRequest(
            number=_number(branch),
            url=f"{repo}#{branch}",
            branch=branch,
            base=base,
            head_sha=self.git.local_heads.get(branch) or self.git.rev_parse(f"refs/heads/{branch}"),
            state=PullRequestState.OPEN,
            title=draft.title,
            fingerprint=marker.fingerprint if marker else None,
            proposals=marker.proposals if marker else (),
            labels=draft.labels,
        )


def _number(branch: str) -> int:
    """A stable pseudo number per branch (a plain remote has no numbering)."""
    return int(hashlib.sha256(branch.encode("utf-8")).hexdigest()[:6], 16)
