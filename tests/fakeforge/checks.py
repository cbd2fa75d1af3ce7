"""What CI reported on commits, as both forges show it: GitHub check runs and commit statuses
(`GET .../commits/{ref}/check-runs`, the combined `.../status`), GitLab commit statuses and
pipelines (`.../repository/commits/:sha/statuses`, `/pipelines?sha=`). Tests record results
through `FakeForge.report_check`, `report_status` and `report_pipeline`."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from tests.fakeforge.exchange import ApiRequest, ApiResponse, Handler
from tests.fakeforge.github_api import not_found, repo_of
from tests.fakeforge.github_render import GitHubRenderer, node_id
from tests.fakeforge.gitlab_api import gitlab_repo
from tests.fakeforge.gitlab_render import GitLabRenderer
from tests.fakeforge.pagination import paginate
from tests.fakeforge.state import ForgeState, Repository, User, now_iso

__all__ = ["CheckStore", "GitHubChecks", "GitLabChecks"]

# one status vocabulary per forge; a test may record either
_GITHUB_STATUS = {
    "failed": "failure",
    "canceled": "error",
    "running": "pending",
    "skipped": "success",
}
_GITLAB_STATUS = {"failure": "failed", "error": "failed"}


@dataclass(slots=True)
class CheckRun:
    """A completed GitHub check run and its conclusion."""

    id: int
    name: str
    status: str
    conclusion: str
    at: str


@dataclass(slots=True)
class Status:
    """A commit status (GitHub: pending | success | failure | error; GitLab: pending | running |
    success | failed | canceled | skipped), by context (GitHub) or name (GitLab)."""

    id: int
    context: str
    state: str
    at: str
    by: User


@dataclass(slots=True)
class Pipeline:
    """A GitLab pipeline of a commit: created | pending | running | success | failed | ..."""

    id: int
    status: str
    ref: str
    at: str


@dataclass(slots=True)
class CommitChecks:
    runs: list[CheckRun] = field(default_factory=list)
    statuses: list[Status] = field(default_factory=list)
    pipelines: list[Pipeline] = field(default_factory=list)


class CheckStore:
    """Every commit's CI results, per repository id and sha."""

    def __init__(self) -> None:
        self._ids = itertools.count(9000)
        self._commits: dict[tuple[int, str], CommitChecks] = {}

    def of(self, repo: Repository, sha: str) -> CommitChecks:
        return self._commits.setdefault((repo.id, sha), CommitChecks())

    def reset(self) -> None:
        self._commits.clear()

    def run(self, repo: Repository, sha: str, name: str, status: str, conclusion: str) -> None:
        """Record (or replace, by name) a check run."""
        checks = self.of(repo, sha)
        checks.runs = [r for r in checks.runs if r.name != name]
        checks.runs.append(CheckRun(next(self._ids), name, status, conclusion, now_iso()))

    def status(self, repo: Repository, sha: str, context: str, state: str, by: User) -> None:
        """Record (or replace, by context) a commit status."""
        checks = self.of(repo, sha)
        checks.statuses = [s for s in checks.statuses if s.context != context]
        checks.statuses.append(Status(next(self._ids), context, state, now_iso(), by))

    def pipeline(self, repo: Repository, sha: str, status: str) -> None:
        """Record a pipeline (the newest counts, as on GitLab)."""
        ref = repo.default_branch
        self.of(repo, sha).pipelines.append(Pipeline(next(self._ids), status, ref, now_iso()))


def _sha(repo: Repository, ref: str) -> str:
    sha = repo.git.resolve(ref)
    if sha is None:
        raise not_found("No commit found for SHA: " + ref)
    return sha


def _combined(states: list[str]) -> str:
    if any(s in ("failure", "error") for s in states):
        return "failure"
    if not states or any(s == "pending" for s in states):
        return "pending"
    return "success"


class GitHubChecks:
    """`checks/list-for-ref` and `repos/get-combined-status-for-ref`."""

    def __init__(self, render: GitHubRenderer, store: CheckStore) -> None:
        self.r = render
        self.store = store
        self.handlers: dict[str, Handler] = {
            "checks/list-for-ref": self.check_runs,
            "repos/get-combined-status-for-ref": self.combined_status,
        }

    def check_runs(self, forge: ForgeState, req: ApiRequest) -> ApiResponse:
        """GET /repos/{owner}/{repo}/commits/{ref}/check-runs."""
        repo = repo_of(forge, req)
        sha = _sha(repo, req.path_params["ref"])
        runs = [
            r
            for r in self.store.of(repo, sha).runs
            if req.q("status") in (None, r.status) and req.q("check_name") in (None, r.name)
        ]
        page, headers = paginate(req, runs, default_per_page=30)
        body = {"total_count": len(runs), "check_runs": [self._run(repo, sha, r) for r in page]}
        return ApiResponse(200, body, headers)

    def _run(self, repo: Repository, sha: str, run: CheckRun) -> dict[str, Any]:
        url = f"{self.r.api}/repos/{repo.full_name}/check-runs/{run.id}"
        return {
            "id": run.id,
            "node_id": node_id("CheckRun", run.id),
            "head_sha": sha,
            "external_id": str(run.id),
            "url": url,
            "html_url": f"{self.r.web}/{repo.full_name}/runs/{run.id}",
            "details_url": f"{self.r.web}/{repo.full_name}/runs/{run.id}",
            "status": run.status,
            "conclusion": run.conclusion,
            "started_at": run.at,
            "completed_at": run.at,
            "output": {"title": None, "summary": None, "text": None, "annotations_count": 0,
                       "annotations_url": f"{url}/annotations"},
            "name": run.name,
            "check_suite": {"id": run.id},
            "app": None,
            "pull_requests": [],
        }  # fmt: skip

    def combined_status(self, forge: ForgeState, req: ApiRequest) -> ApiResponse:
        """GET /repos/{owner}/{repo}/commits/{ref}/status: the latest status per context."""
        repo = repo_of(forge, req)
        sha = _sha(repo, req.path_params["ref"])
        statuses = self.store.of(repo, sha).statuses
        github = [_GITHUB_STATUS.get(s.state, s.state) for s in statuses]
        body = {
            "state": _combined(github),
            "sha": sha,
            "total_count": len(statuses),
            "statuses": [
                {
                    "id": s.id,
                    "node_id": node_id("StatusContext", s.id),
                    "state": state,
                    "context": s.context,
                    "description": None,
                    "target_url": None,
                    "avatar_url": None,
                    "url": f"{self.r.api}/repos/{repo.full_name}/statuses/{sha}",
                    "created_at": s.at,
                    "updated_at": s.at,
                }
                for s, state in zip(statuses, github, strict=True)
            ],
            "repository": self.r.repository_simple(repo),
            "commit_url": f"{self.r.api}/repos/{repo.full_name}/commits/{sha}",
            "url": f"{self.r.api}/repos/{repo.full_name}/commits/{sha}/status",
        }
        return ApiResponse(200, body)


class GitLabChecks:
    """`commit_statuses.list` and `pipelines.list`."""

    def __init__(self, render: GitLabRenderer, store: CheckStore) -> None:
        self.r = render
        self.store = store
        self.handlers: dict[str, Handler] = {
            "commit_statuses.list": self.statuses,
            "pipelines.list": self.pipelines,
        }

    def statuses(self, forge: ForgeState, req: ApiRequest) -> ApiResponse:
        """GET /projects/:id/repository/commits/:sha/statuses."""
        repo = gitlab_repo(forge, req)
        sha = repo.git.resolve(req.path_params["sha"]) or req.path_params["sha"]
        items = [
            {
                "id": s.id,
                "sha": sha,
                "ref": repo.default_branch,
                "status": _GITLAB_STATUS.get(s.state, s.state),
                "name": s.context,
                "target_url": None,
                "description": None,
                "created_at": s.at,
                "started_at": s.at,
                "finished_at": None if s.state in ("pending", "running") else s.at,
                "allow_failure": False,
                "author": self.r.user(s.by),
            }
            for s in self.store.of(repo, sha).statuses
        ]
        page, headers = paginate(req, items, default_per_page=20, gitlab=True)
        return ApiResponse(200, page, headers)

    def pipelines(self, forge: ForgeState, req: ApiRequest) -> ApiResponse:
        """GET /projects/:id/pipelines?sha=..., newest first."""
        repo = gitlab_repo(forge, req)
        wanted = req.q("sha")
        sha = (repo.git.resolve(wanted) if wanted else None) or wanted
        found = [] if sha is None else self.store.of(repo, sha).pipelines
        items = [
            {
                "id": p.id,
                "iid": p.id - 9000,
                "project_id": repo.id,
                "sha": sha,
                "ref": p.ref,
                "status": p.status,
                "source": "push",
                "name": None,
                "created_at": p.at,
                "updated_at": p.at,
                "web_url": f"{self.r.web}/{repo.full_name}/-/pipelines/{p.id}",
            }
            for p in sorted(found, key=lambda p: p.id, reverse=True)
        ]
        page, headers = paginate(req, items, default_per_page=20, gitlab=True)
        return ApiResponse(200, page, headers)
