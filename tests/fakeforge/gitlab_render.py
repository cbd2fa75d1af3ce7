"""GitLab JSON objects shaped exactly like the contract's examples: each response has the keys
of its endpoint's documented example, live values from the state and git where the fake knows
them, and the example's own values for what a fake cannot have (time stats, pipelines...)."""

from __future__ import annotations

import json
from typing import Any

from tests.fakeforge.gitlab_contract import GitLabContract
from tests.fakeforge.state import Comment, ForgeState, PullRequest, Repository, User

__all__ = ["GitLabRenderer", "gitlab_state"]


def gitlab_state(pr: PullRequest) -> str:
    """opened | closed | merged."""
    if pr.merged:
        return "merged"
    return "opened" if pr.state == "open" else "closed"


def _shaped(example: dict[str, Any], live: dict[str, Any]) -> dict[str, Any]:
    return {key: live.get(key, default) for key, default in example.items()}


class GitLabRenderer:
    """Turns state into GitLab v4 JSON for one server address."""

    def __init__(self, contract: GitLabContract, base_url: str) -> None:
        self.contract = contract
        self.web = base_url

    def user(self, user: User | None, *, detailed: bool = False) -> dict[str, Any] | None:
        """A basic user object (note authors also carry email and created_at)."""
        if user is None:
            return None
        out: dict[str, Any] = {
            "id": user.id,
            "username": user.login,
            "name": user.login.title(),
            "state": "active",
            "avatar_url": None,
            "web_url": f"{self.web}/{user.login}",
        }
        if detailed:
            out.pop("avatar_url")
            out.pop("web_url")
            out.update(email=f"{user.login}@users.fakeforge.invalid", created_at=user_created())
        return out

    def project(self, repo: Repository) -> dict[str, Any]:
        """A project object."""
        example = self.contract.example("projects.get")
        text = json.dumps(example)
        text = text.replace(
            "https://gitlab.example.com/api/v4/projects/4", f"{self.web}/api/v4/projects/{repo.id}"
        )
        text = text.replace("diaspora/diaspora-client", repo.full_name)
        text = text.replace("https://gitlab.example.com", self.web)
        out: dict[str, Any] = json.loads(text)
        namespace = out["namespace"]
        namespace.update(name=repo.owner, path=repo.owner, full_path=repo.owner)
        namespace.update(web_url=f"{self.web}/{repo.owner}")
        out.update(
            id=repo.id,
            name=repo.name,
            path=repo.name,
            name_with_namespace=f"{repo.owner} / {repo.name}",
            path_with_namespace=repo.full_name,
            created_at=repo.created_at,
            default_branch=repo.default_branch,
            ssh_url_to_repo=f"{self.web}/{repo.full_name}.git",
            http_url_to_repo=f"{self.web}/{repo.full_name}.git",
            web_url=f"{self.web}/{repo.full_name}",
            visibility="private",
            topics=[],
            container_registry_image_prefix=f"registry.fakeforge.invalid/{repo.full_name}",
        )
        return out

    def commit(self, repo: Repository, sha: str, example_id: str) -> dict[str, Any]:
        """A commit object in the shape of `example_id`'s example."""
        return _shaped(self.contract.example(example_id), self._commit_live(repo, sha))

    def _commit_live(self, repo: Repository, sha: str) -> dict[str, Any]:
        info = repo.git.commit_info(sha)
        title = info.message.split("\n", 1)[0]
        live: dict[str, Any] = {
            "id": sha,
            "short_id": sha[:8],
            "title": title,
            "message": info.message,
            "author_name": info.author_name,
            "author_email": info.author_email,
            "authored_date": info.author_date,
            "committer_name": info.committer_name,
            "committer_email": info.committer_email,
            "committed_date": info.committer_date,
            "created_at": info.committer_date,
            "parent_ids": list(info.parents),
            "web_url": f"{self.web}/{repo.full_name}/-/commit/{sha}",
            "status": None,
            "last_pipeline": None,
            "trailers": {},
            "extended_trailers": {},
        }
        return live

    def branch(self, repo: Repository, name: str, sha: str, example_id: str) -> dict[str, Any]:
        """A branch object."""
        live = {
            "name": name,
            "merged": False,
            "protected": name == repo.default_branch,
            "default": name == repo.default_branch,
            "developers_can_push": name != repo.default_branch,
            "developers_can_merge": True,
            "can_push": True,
            "web_url": f"{self.web}/{repo.full_name}/-/tree/{name}",
        }
        out = _shaped(self.contract.example(example_id), live)
        commit_example: dict[str, Any] = self.contract.example("branches.get")["commit"]
        out["commit"] = _shaped(commit_example, self._commit_live(repo, sha))
        return out

    def merge_request(
        self, forge: ForgeState, repo: Repository, pr: PullRequest, example_id: str
    ) -> dict[str, Any]:
        """A merge request object with the keys of `example_id`'s example (or of the list
        shape for `merge_requests.list`)."""
        live = self._mr_live(forge, repo, pr)
        if example_id == "merge_requests.list":
            defaults = self.contract.example("merge_requests.get")
            defaults.update(squash_on_merge=False, approvals_before_merge=None)
            return {k: live.get(k, defaults.get(k)) for k in self.contract.list_item_fields}
        return _shaped(self.contract.example(example_id), live)

    def _mr_live(self, forge: ForgeState, repo: Repository, pr: PullRequest) -> dict[str, Any]:
        state = gitlab_state(pr)
        head_sha = (repo.git.branch_sha(pr.head) if pr.state == "open" else None) or (
            pr.head_sha_at_close
        )
        base_sha = repo.git.branch_sha(pr.base)
        conflicts = False
        if state == "opened" and head_sha and base_sha:
            conflicts = repo.git.merge_tree(base_sha, head_sha) is None
        if state != "opened":
            detailed = "not_open"
        elif conflicts:
            detailed = "conflict"
        else:
            detailed = "draft_status" if pr.draft else "mergeable"
        people = [forge.user_by_login(login) for login in pr.assignees]
        reviewers = [forge.user_by_login(login) for login in pr.reviewers]
        ref = f"!{pr.number}"
        start = repo.git.merge_base(base_sha, head_sha) if base_sha and head_sha else None
        return {
            "id": pr.id,
            "iid": pr.number,
            "project_id": repo.id,
            "title": pr.title,
            "description": pr.body,
            "state": state,
            "created_at": pr.created_at,
            "updated_at": pr.updated_at,
            "merged_by": self.user(pr.merged_by),
            "merge_user": self.user(pr.merged_by),
            "merged_at": pr.merged_at,
            "closed_by": None if pr.merged or state == "opened" else self.user(pr.author),
            "closed_at": None if pr.merged else pr.closed_at,
            "target_branch": pr.base,
            "source_branch": pr.head,
            "user_notes_count": len(pr.comments),
            "author": self.user(pr.author),
            "assignees": [self.user(u) for u in people if u],
            "assignee": self.user(people[0]) if people else None,
            "reviewers": [self.user(u) for u in reviewers if u],
            "source_project_id": repo.id,
            "target_project_id": repo.id,
            "labels": list(pr.labels),
            "draft": pr.draft,
            "work_in_progress": pr.draft,
            "milestone": None,
            "merge_when_pipeline_succeeds": pr.auto_merge is not None,
            "merge_status": "cannot_be_merged" if conflicts else "can_be_merged",
            "detailed_merge_status": detailed,
            "has_conflicts": conflicts,
            "sha": head_sha,
            "merge_commit_sha": pr.merge_commit_sha,
            "squash_commit_sha": None,
            "should_remove_source_branch": pr.remove_source_branch,
            "force_remove_source_branch": pr.remove_source_branch,
            "reference": ref,
            "references": {"short": ref, "relative": ref, "full": f"{repo.full_name}{ref}"},
            "web_url": f"{self.web}/{repo.full_name}/-/merge_requests/{pr.number}",
            "squash": False,
            "squash_on_merge": False,
            "pipeline": None,
            "head_pipeline": None,
            "diff_refs": {"base_sha": base_sha, "head_sha": head_sha, "start_sha": start},
            "merge_error": pr.merge_error,
            "subscribed": True,
            "changes_count": None,
            "user": {"can_merge": True},
            "diverged_commits_count": 0,
            "merge_after": None,
            "prepared_at": pr.created_at,
            "latest_build_started_at": None,
            "latest_build_finished_at": None,
            "first_deployed_to_production_at": None,
            "first_contribution": False,
            "discussion_locked": None,
            "blocking_discussions_resolved": True,
            "approvals_before_merge": None,
        }

    def note(self, repo: Repository, pr: PullRequest, note: Comment) -> dict[str, Any]:
        """A note on a merge request."""
        live = {
            "id": note.id,
            "body": note.body,
            "author": self.user(note.author, detailed=True),
            "created_at": note.created_at,
            "updated_at": note.updated_at,
            "system": False,
            "noteable_id": pr.id,
            "noteable_type": "MergeRequest",
            "project_id": repo.id,
            "noteable_iid": pr.number,
            "resolvable": False,
            "confidential": False,
            "internal": False,
            "attachment": None,
        }
        return _shaped(self.contract.example("merge_request_notes.create"), live)


def user_created() -> str:
    """When the fake's accounts were created (fixed)."""
    return "2020-01-01T00:00:00Z"
