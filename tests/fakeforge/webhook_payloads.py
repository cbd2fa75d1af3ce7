"""Webhook payloads of the fake forge, built from the same renderers as the API answers:
GitHub `pull_request` / `push` (checked against the contract's `webhook-*` schemas by the
sender) and GitLab `Merge Request Hook` (the keys of the documented example) / `Push Hook`
(not transcribed in the contracts: GitLab's usual shape, unverified)."""

from __future__ import annotations

import time
from typing import Any

from tests.fakeforge.github_render import GitHubRenderer
from tests.fakeforge.gitlab_render import GitLabRenderer
from tests.fakeforge.state import ForgeState, PullRequest, Repository

__all__ = ["ZERO", "Payloads"]

ZERO = "0" * 40


class Payloads:
    """Builds webhook payloads for one forge."""

    def __init__(self, forge: ForgeState, github: GitHubRenderer, gitlab: GitLabRenderer) -> None:
        self.forge = forge
        self.gh = github
        self.gl = gitlab

    def github_pull_request(
        self, repo: Repository, pr: PullRequest, action: str, extra: dict[str, Any] | None
    ) -> dict[str, Any]:
        """A `pull_request` payload; `extra` adds action-specific fields."""
        payload = {
            "action": action,
            "number": pr.number,
            "pull_request": self.gh.pull(repo, pr),
            "repository": self.gh.repository(repo),
            "sender": self.gh.account(pr.merged_by or pr.author),
        }
        payload.update(extra or {})
        return payload

    def _commits(self, repo: Repository, before: str, after: str) -> list[dict[str, Any]]:
        if after == ZERO:
            return []
        shas = repo.git.commits_between(before, after) if before != ZERO else [after]
        out = []
        for sha in shas[-20:]:
            info = repo.git.commit_info(sha)
            out.append(
                {
                    "id": sha,
                    "tree_id": info.tree,
                    "distinct": True,
                    "message": info.message,
                    "timestamp": info.committer_date,
                    "url": f"{self.gh.web}/{repo.full_name}/commit/{sha}",
                    "author": {"name": info.author_name, "email": info.author_email},
                    "committer": {"name": info.committer_name, "email": info.committer_email},
                    "added": [],
                    "removed": [],
                    "modified": [],
                }
            )
        return out

    def github_push(self, repo: Repository, branch: str, before: str, after: str) -> dict[str, Any]:
        commits = self._commits(repo, before, after)
        forced = before not in (ZERO,) and after != ZERO and not repo.git.is_ancestor(before, after)
        repository = self.gh.repository(repo)
        repository["pushed_at"] = int(time.time())  # GitHub's push payloads use epoch seconds
        return {
            "ref": f"refs/heads/{branch}",
            "before": before,
            "after": after,
            "created": before == ZERO,
            "deleted": after == ZERO,
            "forced": forced,
            "base_ref": None,
            "compare": f"{self.gh.web}/{repo.full_name}/compare/{before[:12]}...{after[:12]}",
            "commits": commits,
            "head_commit": commits[-1] if commits else None,
            "repository": repository,
            "pusher": {"name": "alice", "email": "alice@users.fakeforge.invalid"},
            "sender": self.gh.user("alice"),
        }

    def _project(self, repo: Repository) -> dict[str, Any]:
        url = f"{self.gl.web}/{repo.full_name}"
        return {
            "id": repo.id,
            "name": repo.name,
            "description": "",
            "web_url": url,
            "avatar_url": None,
            "git_ssh_url": f"{url}.git",
            "git_http_url": f"{url}.git",
            "namespace": repo.owner,
            "visibility_level": 0,
            "path_with_namespace": repo.full_name,
            "default_branch": repo.default_branch,
            "ci_config_path": "",
            "homepage": url,
            "url": f"{url}.git",
            "ssh_url": f"{url}.git",
            "http_url": f"{url}.git",
        }

    def gitlab_merge_request(
        self, repo: Repository, pr: PullRequest, action: str
    ) -> dict[str, Any]:
        mr = self.gl.merge_request(self.forge, repo, pr, "merge_requests.get")
        head = mr["sha"] or ZERO
        project = self._project(repo)
        user = self.gl.user(pr.merged_by or pr.author) or {}
        labels = [
            {
                "id": i,
                "title": name,
                "color": "#ededed",
                "project_id": repo.id,
                "type": "ProjectLabel",
            }
            for i, name in enumerate(pr.labels, 1)
        ]
        attributes = {
            "id": pr.id,
            "iid": pr.number,
            "target_branch": pr.base,
            "source_branch": pr.head,
            "source_project_id": repo.id,
            "target_project_id": repo.id,
            "author_id": pr.author.id,
            "assignee_ids": [a["id"] for a in mr["assignees"]],
            "reviewer_ids": [r["id"] for r in mr["reviewers"]],
            "title": pr.title,
            "description": pr.body,
            "created_at": pr.created_at,
            "updated_at": pr.updated_at,
            "state": mr["state"],
            "draft": pr.draft,
            "work_in_progress": pr.draft,
            "merge_status": mr["merge_status"],
            "detailed_merge_status": mr["detailed_merge_status"],
            "blocking_discussions_resolved": True,
            "first_contribution": False,
            "url": mr["web_url"],
            "source": project,
            "target": project,
            "last_commit": {"id": head, "url": f"{project['web_url']}/-/commit/{head}"},
            "labels": labels,
            "action": action,
        }
        return {
            "object_kind": "merge_request",
            "event_type": "merge_request",
            "user": {k: user.get(k) for k in ("id", "name", "username", "avatar_url")},
            "project": project,
            "repository": {
                "name": repo.name,
                "url": project["url"],
                "description": "",
                "homepage": project["homepage"],
            },
            "object_attributes": attributes,
            "labels": labels,
            "changes": {},
            "assignees": mr["assignees"],
            "reviewers": mr["reviewers"],
        }

    def gitlab_push(self, repo: Repository, branch: str, before: str, after: str) -> dict[str, Any]:
        commits = self._commits(repo, before, after)
        return {
            "object_kind": "push",
            "event_name": "push",
            "before": before,
            "after": after,
            "ref": f"refs/heads/{branch}",
            "checkout_sha": None if after == ZERO else after,
            "user_username": "alice",
            "project_id": repo.id,
            "project": self._project(repo),
            "commits": commits,
            "total_commits_count": len(commits),
            "repository": {"name": repo.name, "url": f"{self.gl.web}/{repo.full_name}.git"},
        }
