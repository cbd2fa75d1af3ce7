"""Carry out reconcile's Actions for one repository: commit, push with a lease, tell the forge.

A dry run reports what each action would do and writes nothing. A push refused because the
remote moved (`PushRejected`) propagates: the caller starts the repository over from fresh
state. Other failures stay with their branch, so one branch failing does not stop the rest.

One-time comments (closed without merging, someone else's commits, closed as obsolete) are
recorded in the PR's marker *before* they are posted: a crash between the two writes loses
that comment, but no pass can ever post it twice (see docs/forges.md, "Lifecycle").

With a `committer` (`commit.signed`), branch commits are made by the forge instead of
`Git.commit` + push; the clone still fetches, and deletes leftover branches.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from image_bot.errors import ForgeError, GitError, PushRejected
from image_bot.model import ChangeDetails, PullRequest, PullRequestState, UpdatePlan
from image_bot.publish.committer import BranchCommitter
from image_bot.publish.forge import Forge, PullRequestDraft
from image_bot.publish.git import Author, BranchHead, Git
from image_bot.publish.pr.body import details_key
from image_bot.publish.pr.draft import (
    closed_comment,
    commit_message,
    draft_for,
    held_comment,
    obsolete_comment,
)
from image_bot.publish.pr.marker import (
    NOTICE_CLOSED,
    NOTICE_HELD,
    NOTICE_OBSOLETE,
    PrMarker,
    decode_pr_marker,
    with_pr_marker,
)
from image_bot.publish.reconcile import (
    Acknowledge,
    Action,
    Close,
    Create,
    Defer,
    Hold,
    Keep,
    Prune,
    Update,
)
from image_bot.publish.settings import PublishSettings
from image_bot.report import BranchReport

__all__ = ["PlanContent", "Publisher"]

_FOREIGN_BRANCH = "the branch exists with a commit that is not the bot's; not overwritten"


@dataclass(frozen=True, slots=True)
class PlanContent:
    """A plan's files rewritten from the base (path -> new text) and their unified diff."""

    files: Mapping[str, str]
    diff: str


@dataclass
class Publisher:
    """Applies actions to one repository whose clone `git` has fetched `base_sha`."""

    git: Git
    forge: Forge
    spec: PublishSettings
    repo_id: str
    base_sha: str
    now: datetime
    dry_run: bool = False
    heads: Mapping[str, BranchHead] = field(default_factory=dict)  # fetched bot branches
    # What this pass already wrote, kept across a restart after a lost race (by branch).
    written: dict[str, BranchReport] = field(default_factory=dict)
    committer: BranchCommitter | None = None  # None: Git.commit and a leased push
    rebuild: Collection[str] = ()  # branches to rebuild even if their head fits the plan
    # what the pull requests tell about each change, by `publish.pr.body.details_key`
    details: Mapping[tuple[str, str], ChangeDetails] = field(default_factory=dict)

    @property
    def author(self) -> Author:
        return Author(self.spec.commit.author_name, self.spec.commit.author_email)

    def owns(self, author_email: str) -> bool:
        """Whether a commit by `author_email` may be the bot's (the configured author, or
        the committer's identity)."""
        if author_email == self.author.email:
            return True
        return self.committer is not None and self.committer.owns(author_email)

    def marker_of(self, head: BranchHead) -> PrMarker | None:
        """The marker of a branch head the bot committed (its identity, its message), else None:
        a head someone else committed is never the bot's, whatever its message says."""
        return decode_pr_marker(head.message) if self.owns(head.author_email) else None

    def apply(self, action: Action, content: Mapping[str, PlanContent]) -> BranchReport:
        """Do `action` (its plan's files are `content[branch]`) and report it."""
        try:
            done = self._apply(action, content)
        except PushRejected:
            raise
        except (GitError, ForgeError) as error:
            return replace(self.report(action, content), error=error.message)
        if done.action in ("create", "update", "close") and not self.dry_run:
            self.written[done.branch] = done
        elif done.action == "keep" and done.branch in self.written:
            return self.written[done.branch]  # kept now because an earlier attempt wrote it
        return done

    def direct(self, plan: UpdatePlan, content: PlanContent) -> BranchReport:
        """Commit `plan` straight onto the base (fast-forward only); no branch, no forge."""
        report = BranchReport(
            branch=plan.base,
            action="direct",
            group=plan.group,
            title=commit_message(plan, self.spec.commit).partition("\n")[0],
            changes=plan.changes,
            diff=content.diff,
        )
        if self.dry_run or not content.files:
            return report
        if self.committer is not None:
            sha = self.committer.commit_branch(
                plan.base, parent=self.base_sha, files=content.files,
                message=commit_message(plan, self.spec.commit), expected=self.base_sha,
            )  # fmt: skip
            return replace(report, head_sha=sha)
        sha = self._commit(plan, content, branch=f"{plan.base}-image-bot-direct")
        self.git.push(sha, plan.base, expected=self.base_sha, force=False)
        return replace(report, head_sha=sha)

    def _apply(self, action: Action, content: Mapping[str, PlanContent]) -> BranchReport:
        report = self.report(action, content)
        if self.dry_run:
            return report
        match action:
            case Create(plan):
                draft = self._draft(plan)
                head = self.heads.get(plan.branch)
                if head is not None and self._fingerprint(head) is None:
                    return replace(report, action="hold", reason=_FOREIGN_BRANCH)
                sha = self._push(plan, content, head)
                pr = self.forge.create(self.repo_id, plan.branch, plan.base, draft)
                automerge = plan.automerge
                if automerge is None:
                    automerge = self.spec.pull_request.automerge
                if automerge:
                    self.forge.enable_automerge(self.repo_id, pr)
                return replace(report, head_sha=sha, url=pr.url)
            case Update(pr, plan):
                old = decode_pr_marker(pr.body)
                read = (old.seen, old.cursor) if old else (0, 0)
                draft = self._draft(plan, pr.notices, read)
                sha = self._push(plan, content, self.heads.get(plan.branch))
                updated = self.forge.update(self.repo_id, pr, draft)
                return replace(report, head_sha=sha, url=updated.url)
            case Close(pr, reason):
                self._check_ours(pr.branch)
                self._comment_once(pr, NOTICE_OBSOLETE, obsolete_comment(reason))
                self.forge.close(self.repo_id, pr)
                self._delete_branch(pr.branch, pr.head_sha)
                return report
            case Hold(pr) if pr.state is PullRequestState.OPEN:
                self._comment_once(pr, NOTICE_HELD, held_comment(pr.branch))
                return report
            case Acknowledge(pr):
                self._comment_once(pr, NOTICE_CLOSED, closed_comment(pr.proposals))
                return report
            case Prune(pr):
                self._check_ours(pr.branch)
                self._delete_branch(pr.branch, pr.head_sha)
                return report
            case Keep() | Hold() | Defer():
                return report

    def report(self, action: Action, content: Mapping[str, PlanContent]) -> BranchReport:
        """What `action` does, with its pull request text and diff (no I/O)."""
        match action:
            case Create(plan) | Update(_, plan):
                draft = self._draft(plan)
                planned = content.get(plan.branch)
                keys = dict.fromkeys(map(details_key, plan.changes))
                return BranchReport(
                    branch=plan.branch,
                    action="create" if isinstance(action, Create) else "update",
                    group=plan.group,
                    title=draft.title,
                    body=draft.body,
                    changes=plan.changes,
                    details=tuple(self.details[key] for key in keys if key in self.details),
                    labels=draft.labels,
                    diff=planned.diff if planned else "",
                    url=action.pr.url if isinstance(action, Update) else "",
                )
            case Keep(pr, plan, reason) | Hold(pr, plan, reason):
                return BranchReport(
                    branch=pr.branch,
                    action="keep" if isinstance(action, Keep) else "hold",
                    group=plan.group if plan else "",
                    reason=reason,
                    title=pr.title,
                    changes=plan.changes if plan else (),
                    head_sha=pr.head_sha,
                    url=pr.url,
                )
            case Close(pr, reason):
                return BranchReport(
                    branch=pr.branch, action="close", reason=reason, title=pr.title, url=pr.url
                )
            case Acknowledge(pr):
                return BranchReport(
                    branch=pr.branch,
                    action="acknowledge",
                    reason="closed without merging; what it proposed is not proposed again",
                    title=pr.title,
                    url=pr.url,
                )
            case Prune(pr):
                return BranchReport(
                    branch=pr.branch,
                    action="prune",
                    reason=f"its pull request is {pr.state.value}; the branch is deleted",
                    title=pr.title,
                    url=pr.url,
                )
            case Defer(plan, reason):
                return BranchReport(
                    branch=plan.branch,
                    action="defer",
                    group=plan.group,
                    reason=reason,
                    changes=plan.changes,
                    diff=content[plan.branch].diff if plan.branch in content else "",
                )

    def _draft(
        self, plan: UpdatePlan, notices: tuple[str, ...] = (), read: tuple[int, int] = (0, 0)
    ) -> PullRequestDraft:
        return draft_for(
            plan, self.spec.pull_request, notices, details=self.details, now=self.now, read=read
        )

    def _push(
        self, plan: UpdatePlan, content: Mapping[str, PlanContent], head: BranchHead | None
    ) -> str:
        """Build and push `plan`'s commit, leased on the fetched `head`; its sha.

        A head the bot already built for this very plan (an earlier pass pushed it, then the
        forge call failed) is reused: no commit, no push; unless a rebuild was asked for.
        """
        reusable = plan.branch not in self.rebuild
        if reusable and head is not None and self._fingerprint(head) == plan.fingerprint:
            return head.sha
        self._check_ours(plan.branch)
        expected = head.sha if head else None
        if self.committer is not None:
            return self.committer.commit_branch(
                plan.branch, parent=self.base_sha, files=content[plan.branch].files,
                message=commit_message(plan, self.spec.commit), expected=expected,
            )  # fmt: skip
        sha = self._commit(plan, content[plan.branch])
        self.git.push(sha, plan.branch, expected=expected)
        return sha

    def _comment_once(self, pr: PullRequest, notice: str, comment: str) -> None:
        """Post `comment` unless `pr`'s marker records `notice`; record it first, then post.

        Recording first makes the comment at-most-once: a crash after the record loses the
        comment, but never duplicates it. A PR without the bot's marker gets nothing.
        """
        marker = decode_pr_marker(pr.body)
        if marker is None or notice in pr.notices:
            return
        # `seen` counts the comment too: it is ours, not a command to read next pass
        body = with_pr_marker(pr.body, replace(marker.noticed(notice), seen=marker.seen + 1))
        draft = PullRequestDraft(
            title=pr.title, body=body, labels=pr.labels, reviewers=pr.reviewers,
            assignees=pr.assignees, draft=pr.draft,
        )  # fmt: skip
        self.forge.update(self.repo_id, pr, draft)
        self.forge.comment(self.repo_id, pr, comment)

    def _delete_branch(self, branch: str, expected: str) -> None:
        """Delete the bot's `branch` if it is still at `expected` (gone or moved: left alone).

        A lost lease is not worth a restart: the branch is already gone (the local forge's
        close deletes it), or someone pushed to it and it is theirs now.
        """
        if not expected:
            return
        try:
            self.git.delete_remote_branch(branch, expected=expected)
        except PushRejected:
            return

    def _check_ours(self, branch: str) -> None:
        """Refuse to force-push or delete anything but the bot's own branches."""
        prefix = self.spec.branch_prefix
        if not prefix or not branch.startswith(prefix) or branch == self.spec.base:
            raise GitError("push", f"refusing to touch {branch!r}: not under {prefix!r}")

    def _fingerprint(self, head: BranchHead) -> str | None:
        """The plan fingerprint of a branch head the bot committed, else None."""
        marker = self.marker_of(head)
        return marker.fingerprint if marker else None

    def _commit(self, plan: UpdatePlan, content: PlanContent, branch: str | None = None) -> str:
        message = commit_message(plan, self.spec.commit)
        return self.git.commit(
            branch or plan.branch, self.base_sha, content.files, message, self.author, when=self.now
        )
