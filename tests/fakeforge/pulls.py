"""Pull/merge request life cycle shared by both API flavours and the test-control API:
open, close, merge (a real git merge) and keeping requests in line with the branches."""

from __future__ import annotations

from tests.fakeforge.state import ForgeState, PullRequest, Repository, User, now_iso

__all__ = [
    "close_pull",
    "enable_auto_merge",
    "find_repo",
    "merge_pull",
    "open_pull",
    "set_status",
    "sync_pulls",
]


def find_repo(forge: ForgeState, full_name: str) -> Repository | None:
    """A repository by `owner/name` (case-insensitive, as on both forges)."""
    wanted = full_name.lower()
    return next((r for k, r in forge.repos.items() if k.lower() == wanted), None)


def sync_pulls(repo: Repository) -> None:
    """Bring open requests in line with what was pushed, as GitHub and GitLab do: a deleted
    head branch closes the request; a head already contained in the base (someone pushed
    the commits to the base branch) marks it merged."""
    open_pulls = [pr for pr in repo.pulls.values() if pr.state == "open"]
    if not open_pulls:
        return
    for pr in open_pulls:
        head, base = repo.git.branch_sha(pr.head), repo.git.branch_sha(pr.base)
        if head is None:
            close_pull(repo, pr)
        elif base is not None and repo.git.is_ancestor(head, base):
            close_pull(repo, pr)
            pr.merged_at, pr.merge_commit_sha = pr.closed_at, head


def open_pull(
    forge: ForgeState,
    repo: Repository,
    *,
    head: str,
    base: str,
    title: str,
    body: str,
    author: User,
    draft: bool = False,
) -> PullRequest:
    """Open a request; ValueError (with the forge's wording) when it cannot be opened."""
    head_sha = repo.git.branch_sha(head)
    base_sha = repo.git.branch_sha(base)
    if head_sha is None:
        raise ValueError(f"head branch {head!r} does not exist")
    if base_sha is None:
        raise ValueError(f"base branch {base!r} does not exist")
    for pr in repo.pulls.values():
        if pr.state == "open" and pr.head == head and pr.base == base:
            raise ValueError(f"A pull request already exists for {repo.owner}:{head}.")
    if not repo.git.commits_between(base_sha, head_sha):
        raise ValueError(f"No commits between {base} and {head}")
    stamp = now_iso()
    number = max([*repo.pulls, *repo.issues], default=0) + 1  # one number space
    pr = PullRequest(
        number=number,
        id=forge.next_id(),
        title=title,
        body=body,
        head=head,
        base=base,
        author=author,
        created_at=stamp,
        updated_at=stamp,
        draft=draft,
    )
    repo.pulls[number] = pr
    return pr


def close_pull(repo: Repository, pr: PullRequest) -> None:
    """Close without merging; remember the head sha the request had."""
    pr.head_sha_at_close = repo.git.branch_sha(pr.head) or pr.head_sha_at_close
    pr.state = "closed"
    pr.closed_at = pr.updated_at = now_iso()
    pr.auto_merge = None


def merge_pull(
    repo: Repository, pr: PullRequest, user: User, *, message: str, method: str = "merge"
) -> str | None:
    """Merge the head branch into the base branch in the bare repo (merge, squash or rebase);
    the new base sha, or None when git reports a conflict."""
    head_sha = repo.git.branch_sha(pr.head)
    if head_sha is None:
        return None
    sha = repo.git.merge(
        pr.base, head_sha, message, method, (user.login, f"{user.login}@users.fakeforge.invalid")
    )
    if sha is None:
        return None
    close_pull(repo, pr)
    pr.merged_at = pr.closed_at
    pr.merged_by = user
    pr.merge_commit_sha = sha
    if pr.remove_source_branch:
        repo.git.delete_ref(f"refs/heads/{pr.head}")
    return sha


def enable_auto_merge(pr: PullRequest, user: User, method: str) -> None:
    """Record an auto-merge request (merged once the head commit's checks pass)."""
    pr.auto_merge, pr.auto_merge_by, pr.auto_merge_at = method.upper(), user, now_iso()


def set_status(repo: Repository, sha: str, state: str, user: User) -> list[PullRequest]:
    """Set the combined check state of a commit; on `success`, merge the open requests with
    auto-merge whose head is that commit (as GitHub and GitLab do). Returns those merged."""
    repo.statuses[sha] = state
    merged: list[PullRequest] = []
    if state != "success":
        return merged
    for pr in list(repo.pulls.values()):
        if pr.state == "open" and pr.auto_merge and repo.git.branch_sha(pr.head) == sha:
            who = pr.auto_merge_by or user
            message = f"Merge pull request #{pr.number} from {repo.owner}/{pr.head}\n\n{pr.title}"
            if merge_pull(repo, pr, who, message=message, method=pr.auto_merge.lower()):
                merged.append(pr)
    return merged
