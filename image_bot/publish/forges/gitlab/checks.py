"""A commit's checks on GitLab: its newest pipeline and its commit statuses (external CI, and
the jobs of GitLab CI), taken together as one CheckState. Two requests; lazy objects."""

from __future__ import annotations

from gitlab.v4.objects import Project

from image_bot.model import CheckState

__all__ = ["commit_checks"]

_FAILED = frozenset({"failed", "canceled"})
_PASSED = frozenset({"success", "skipped"})


def commit_checks(project: Project, sha: str) -> CheckState:
    """Failure if the newest pipeline or a status (not allowed to fail) failed; pending while
    one is not finished; none when nothing reported; success otherwise."""
    pipelines = project.pipelines.list(
        sha=sha, order_by="id", sort="desc", per_page=1, get_all=False
    )
    statuses = project.commits.get(sha, lazy=True).statuses.list(get_all=True)
    states = [pipeline.status for pipeline in pipelines[:1]]
    states += [s.status for s in statuses if not getattr(s, "allow_failure", False)]
    if not states:
        return CheckState.NONE
    if any(state in _FAILED for state in states):
        return CheckState.FAILURE
    if all(state in _PASSED for state in states):
        return CheckState.SUCCESS
    return CheckState.PENDING
