"""Commits made by GitHub through the Git Data API, so GitHub signs them (GitHub App mode).

A commit pushed with git carries the bot's name but no signature, so repositories that
require signed commits refuse it. A commit created through the API by an App installation is
signed by GitHub and shown as *Verified*. This module makes such a commit on top of a parent
from the changed files' new text (no clone needed for the write) and moves a branch to it:

    commit = commit_through_api(repo, parent=base_sha, files={"deploy.yaml": text},
                                message="Update nginx to 1.27")
    move_branch(repo, "image-bot/nginx", commit.sha, expected=old_head_or_None)

`ApiCommitter` wires them in as the pipeline's BranchCommitter for a GitHub App repository
with `commit.signed` (`GitHubKind.committer` builds it), in place of `Git.commit` +
`Git.push`.

The Git Data API has no compare-and-swap on refs: `move_branch` reads the ref and refuses
(PushRejected, so the pipeline starts over) when it is not at `expected`, then force-moves it;
a push landing between those two requests is lost, where `git push --force-with-lease` would
refuse. The window is one request long.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import requests
from github import GithubException, InputGitTreeElement
from github.GithubException import BadAttributeException, UnknownObjectException
from github.Repository import Repository

from image_bot.errors import PushRejected
from image_bot.publish.forges.github.errors import map_github_error
from image_bot.publish.git import Git

__all__ = ["ApiCommit", "ApiCommitter", "commit_through_api", "is_app_bot", "move_branch"]

_API_ERRORS = (GithubException, BadAttributeException, requests.RequestException)
_REGULAR_FILE = "100644"


@dataclass(frozen=True, slots=True)
class ApiCommit:
    """A commit GitHub created: its sha and whether GitHub reports it signed (verified)."""

    sha: str
    verified: bool


def commit_through_api(
    repo: Repository,
    *,
    parent: str,
    files: Mapping[str, str | None],
    message: str,
    modes: Mapping[str, str] | None = None,
) -> ApiCommit:
    """A commit on `parent` whose tree is the parent's with `files` (path -> new UTF-8 text,
    None: delete) changed. `modes` keeps a file's git mode (`100755`); default `100644`.

    No author is sent: GitHub then authors the commit as the App (`name[bot]`) and signs it.
    Three requests. Raises ForgeError.
    """
    modes = modes or {}
    elements = [
        InputGitTreeElement(path, modes.get(path, _REGULAR_FILE), "blob", sha=None)
        if text is None
        else InputGitTreeElement(path, modes.get(path, _REGULAR_FILE), "blob", content=text)
        for path, text in sorted(files.items())
    ]
    try:
        parent_commit = repo.get_git_commit(parent)
        tree = repo.create_git_tree(elements, base_tree=parent_commit.tree)
        created = repo.create_git_commit(message, tree, [parent_commit])
    except _API_ERRORS as exc:
        raise map_github_error(exc, repo.full_name) from None
    verification = created.raw_data.get("verification") or {}
    return ApiCommit(created.sha, verified=bool(verification.get("verified")))


def move_branch(repo: Repository, branch: str, sha: str, *, expected: str | None) -> None:
    """Point `branch` at `sha`: create it when `expected` is None, else only when it is still
    at `expected` (PushRejected otherwise, as a stale `--force-with-lease` push would be)."""
    ref = f"heads/{branch}"
    try:
        if expected is None:
            try:
                repo.create_git_ref(f"refs/{ref}", sha)
            except GithubException as exc:
                if exc.status == 422:  # already exists: someone else created it meanwhile
                    raise PushRejected(f"create {ref}", "the branch exists already") from None
                raise
            return
        try:
            current = repo.get_git_ref(ref)
        except UnknownObjectException:
            raise PushRejected(f"update {ref}", "the branch is gone") from None
        if current.object.sha != expected:
            raise PushRejected(f"update {ref}", f"the branch moved to {current.object.sha}")
        current.edit(sha, force=True)
    except _API_ERRORS as exc:
        raise map_github_error(exc, repo.full_name) from None


def is_app_bot(author_email: str) -> bool:
    """Whether `author_email` is a GitHub App's bot account (`123+name[bot]@users.noreply...`).

    GitHub authors an App's API commits as its `name[bot]` account; a plain git push cannot
    use that account's email without faking it, and a head is only taken for the bot's when
    its message also carries the bot's marker.
    """
    local = author_email.partition("@")[0]
    return local.rpartition("+")[2].endswith("[bot]")


@dataclass(frozen=True, slots=True)
class ApiCommitter:
    """A BranchCommitter making commits through the Git Data API (signed by GitHub for an App).

    `git` is the repository's clone, read for the changed files' modes (`100755` kept).
    """

    repo: Repository
    git: Git

    def commit_branch(
        self,
        branch: str,
        *,
        parent: str,
        files: Mapping[str, str],
        message: str,
        expected: str | None,
    ) -> str:
        """Commit `files` on `parent` through the API and move `branch` to it; its sha."""
        modes = self.git.file_modes(parent, files)
        commit = commit_through_api(
            self.repo, parent=parent, files=dict(files), message=message, modes=modes
        )
        move_branch(self.repo, branch, commit.sha, expected=expected)
        self.git.local_heads[branch] = commit.sha
        return commit.sha

    def owns(self, author_email: str) -> bool:
        """Whether the App's commits may have `author_email` (its `[bot]` account)."""
        return is_app_bot(author_email)
