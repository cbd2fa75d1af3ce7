"""A commit's checks on GitHub: its check runs (Actions and other apps) and its combined
commit status, taken together as one CheckState. Two requests; `get_commit` is lazy."""

from __future__ import annotations

from github.Repository import Repository

from image_bot.model import CheckState

__all__ = ["commit_checks"]

_FAILED = frozenset(
    {"failure", "cancelled", "timed_out", "action_required", "startup_failure", "stale"}
)


def commit_checks(repository: Repository, sha: str) -> CheckState:
    """Failure if any check run or status failed; pending while any runs; none when nothing
    reported; success otherwise (a neutral or skipped run counts as passed)."""
    commit = repository.get_commit(sha)
    runs = [(run.status, run.conclusion) for run in commit.get_check_runs()]
    combined = commit.get_combined_status()
    reported = combined.total_count > 0
    if any(conclusion in _FAILED for status, conclusion in runs if status == "completed") or (
        reported and combined.state in ("failure", "error")
    ):
        return CheckState.FAILURE
    if any(status != "completed" for status, _ in runs) or (
        reported and combined.state == "pending"
    ):
        return CheckState.PENDING
    return CheckState.SUCCESS if runs or reported else CheckState.NONE
