"""GitHub JSON objects built from the contract's own examples: each response starts as the
documented example, moved to the fake's URLs, with the live values (numbers, shas, states) set
from the forge state and git."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from tests.fakeforge.contracts import GitHubContract
from tests.fakeforge.state import Comment, PullRequest, Repository, User

__all__ = ["GitHubRenderer"]

EXAMPLE_REPO = "octocat/Hello-World"


def node_id(kind: str, number: int) -> str:
    """A GitHub-looking global node id."""
    return base64.b64encode(f"0:{kind}{number}".encode()).decode()


def label_id(name: str) -> int:
    """A stable numeric id for a label name."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big")


class GitHubRenderer:
    """Turns state into schema-shaped GitHub JSON for one server address."""

    def __init__(self, contract: GitHubContract, base_url: str) -> None:
        self.contract = contract
        self.web = base_url
        self.api = f"{base_url}/api/v3"
        self._templates: dict[str, str] = {}
        self._objects: dict[str, str] = {}  # rendered users/repositories, as JSON text

    def _template(self, example: str, pick: str | None = None) -> str:
        key = f"{example}/{pick}"
        if key not in self._templates:
            value = self.contract.example(example)
            for part in (pick or "").split("/"):
                if part:
                    value = value[int(part)] if isinstance(value, list) else value[part]
            self._templates[key] = json.dumps(value)
        return self._templates[key]

    def _relocated(self, example: str, full_name: str, pick: str | None = None) -> Any:
        text = self._template(example, pick)
        for old, new in (
            (f"https://api.github.com/repos/{EXAMPLE_REPO}", f"{self.api}/repos/{full_name}"),
            (f"https://github.com/{EXAMPLE_REPO}.git", f"{self.web}/{full_name}.git"),
            (f"git://github.com/{EXAMPLE_REPO}.git", f"{self.web}/{full_name}.git"),
            (f"git@github.com:{EXAMPLE_REPO}.git", f"{self.web}/{full_name}.git"),
            (f"https://github.com/{EXAMPLE_REPO}", f"{self.web}/{full_name}"),
            ("https://api.github.com", self.api),
            ("https://github.com", self.web),
            (EXAMPLE_REPO, full_name),
        ):
            text = text.replace(old, new)
        return json.loads(text)

    # ------------------------------------------------------------------ people
    def user(self, login: str, user_id: int | None = None) -> dict[str, Any]:
        """A simple-user object (built once per account, copied after)."""
        key = f"user:{login}:{user_id}"
        if key not in self._objects:
            self._objects[key] = json.dumps(self._user(login, user_id))
        result: dict[str, Any] = json.loads(self._objects[key])
        return result

    def _user(self, login: str, user_id: int | None) -> dict[str, Any]:
        out: dict[str, Any] = self._relocated("pull-request", "", "user")
        text = json.dumps(out).replace("octocat", login)
        out = json.loads(text)
        out["id"] = user_id if user_id is not None else label_id(login)
        out["node_id"] = node_id("User", out["id"])
        out["type"] = "Bot" if login.endswith("[bot]") else "User"
        return out

    def account(self, user: User) -> dict[str, Any]:
        """The simple-user object of a forge account."""
        return self.user(user.login, user.id)

    # ------------------------------------------------------------------ repositories
    def repository(self, repo: Repository) -> dict[str, Any]:
        """A full-repository object."""
        out: dict[str, Any] = self._relocated("full-repository-default-response", repo.full_name)
        for fork_field in ("parent", "source", "template_repository", "organization"):
            out.pop(fork_field, None)
        out.update(
            self._repository_fields(repo),
            created_at=repo.created_at,
            language=None,
            permissions={
                "admin": True,
                "maintain": True,
                "push": True,
                "triage": True,
                "pull": True,
            },
        )
        return out

    def repository_simple(self, repo: Repository) -> dict[str, Any]:
        """The `repository` object embedded in pull request heads and bases."""
        key = f"repo:{repo.id}:{repo.full_name}:{repo.default_branch}:{repo.allow_auto_merge}"
        if key not in self._objects:
            self._objects[key] = json.dumps(self._repository_simple(repo))
        result: dict[str, Any] = json.loads(self._objects[key])
        return result

    def _repository_simple(self, repo: Repository) -> dict[str, Any]:
        out: dict[str, Any] = self._relocated("pull-request", repo.full_name, "head/repo")
        out.update(self._repository_fields(repo))
        return out

    def _repository_fields(self, repo: Repository) -> dict[str, Any]:
        """The fields the full and the embedded repository objects share."""
        return {
            "id": repo.id,
            "node_id": node_id("Repository", repo.id),
            "name": repo.name,
            "full_name": repo.full_name,
            "owner": self.user(repo.owner),
            "default_branch": repo.default_branch,
            "private": True,
            "visibility": "private",
            "allow_auto_merge": repo.allow_auto_merge,
        }

    def labels(self, repo: Repository, names: list[str]) -> list[dict[str, Any]]:
        """Label objects for label names."""
        return [
            {
                "id": label_id(name),
                "node_id": node_id("Label", label_id(name)),
                "url": f"{self.api}/repos/{repo.full_name}/labels/{name}",
                "name": name,
                "description": "",
                "color": "ededed",
                "default": False,
            }
            for name in names
        ]

    # ------------------------------------------------------------------ pull requests
    def _end(self, repo: Repository, branch: str, sha: str) -> dict[str, Any]:
        return {
            "label": f"{repo.owner}:{branch}",
            "ref": branch,
            "sha": sha,
            "user": self.user(repo.owner),
            "repo": self.repository_simple(repo),
        }

    def pull(self, repo: Repository, pr: PullRequest, *, simple: bool = False) -> dict[str, Any]:
        """A pull-request object (or pull-request-simple for listings)."""
        example = "pull-request-simple-items" if simple else "pull-request"
        out: dict[str, Any] = self._relocated(example, repo.full_name, "0" if simple else None)
        api = f"{self.api}/repos/{repo.full_name}"
        web = f"{self.web}/{repo.full_name}"
        head_sha = repo.git.branch_sha(pr.head) if pr.state == "open" else None
        head_sha = head_sha or pr.head_sha_at_close or "0" * 40
        base_sha = repo.git.branch_sha(pr.base) or "0" * 40
        n = pr.number
        out.update(
            url=f"{api}/pulls/{n}",
            id=pr.id,
            node_id=node_id("PullRequest", pr.id),
            html_url=f"{web}/pull/{n}",
            diff_url=f"{web}/pull/{n}.diff",
            patch_url=f"{web}/pull/{n}.patch",
            issue_url=f"{api}/issues/{n}",
            commits_url=f"{api}/pulls/{n}/commits",
            review_comments_url=f"{api}/pulls/{n}/comments",
            review_comment_url=f"{api}/pulls/comments{{/number}}",
            comments_url=f"{api}/issues/{n}/comments",
            statuses_url=f"{api}/statuses/{head_sha}",
            number=n,
            state=pr.state,
            locked=False,
            title=pr.title,
            body=pr.body,
            user=self.account(pr.author),
            labels=self.labels(repo, pr.labels),
            milestone=None,
            active_lock_reason=None,
            created_at=pr.created_at,
            updated_at=pr.updated_at,
            closed_at=pr.closed_at,
            merged_at=pr.merged_at,
            merge_commit_sha=pr.merge_commit_sha,
            assignee=self.user(pr.assignees[0]) if pr.assignees else None,
            assignees=[self.user(a) for a in pr.assignees],
            requested_reviewers=[self.user(r) for r in pr.reviewers],
            requested_teams=[],
            head=self._end(repo, pr.head, head_sha),
            base=self._end(repo, pr.base, base_sha),
            author_association="MEMBER",
            auto_merge=self._auto_merge(pr),
            draft=pr.draft,
        )
        out["_links"] = {
            "self": {"href": f"{api}/pulls/{n}"},
            "html": {"href": f"{web}/pull/{n}"},
            "issue": {"href": f"{api}/issues/{n}"},
            "comments": {"href": f"{api}/issues/{n}/comments"},
            "review_comments": {"href": f"{api}/pulls/{n}/comments"},
            "review_comment": {"href": f"{api}/pulls/comments{{/number}}"},
            "commits": {"href": f"{api}/pulls/{n}/commits"},
            "statuses": {"href": f"{api}/statuses/{head_sha}"},
        }
        if not simple:
            out.update(self._merge_facts(repo, pr, head_sha, base_sha))
        return out

    def _auto_merge(self, pr: PullRequest) -> dict[str, Any] | None:
        if pr.auto_merge is None:
            return None
        return {
            "enabled_by": self.account(pr.author),
            "merge_method": pr.auto_merge.lower(),
            "commit_title": pr.title,
            "commit_message": "",
        }

    def _merge_facts(
        self, repo: Repository, pr: PullRequest, head_sha: str, base_sha: str
    ) -> dict[str, Any]:
        commits = repo.git.commits_between(base_sha, head_sha) if pr.state == "open" else []
        mergeable: bool | None = None
        state = "unknown"
        if pr.state == "open":
            mergeable = repo.git.merge_tree(base_sha, head_sha) is not None
            state = ("draft" if pr.draft else "clean") if mergeable else "dirty"
        return {
            "merged": pr.merged,
            "mergeable": mergeable,
            "rebaseable": mergeable,
            "mergeable_state": state,
            "merged_by": self.account(pr.merged_by) if pr.merged_by else None,
            "comments": len(pr.comments),
            "review_comments": 0,
            "maintainer_can_modify": False,
            "commits": len(commits),
            "additions": 0,
            "deletions": 0,
            "changed_files": 0,
        }

    def issue(self, repo: Repository, pr: PullRequest) -> dict[str, Any]:
        """The issue view of a pull request (GitHub PRs are issues) or of a plain issue."""
        out: dict[str, Any] = self._relocated("issue", repo.full_name)
        api = f"{self.api}/repos/{repo.full_name}"
        web = f"{self.web}/{repo.full_name}"
        n = pr.number
        out.update(
            id=pr.id,
            node_id=node_id("PullRequest", pr.id),
            url=f"{api}/issues/{n}",
            repository_url=api,
            labels_url=f"{api}/issues/{n}/labels{{/name}}",
            comments_url=f"{api}/issues/{n}/comments",
            events_url=f"{api}/issues/{n}/events",
            html_url=f"{web}/pull/{n}",
            number=n,
            state=pr.state,
            title=pr.title,
            body=pr.body,
            user=self.account(pr.author),
            labels=self.labels(repo, pr.labels),
            assignee=self.user(pr.assignees[0]) if pr.assignees else None,
            assignees=[self.user(a) for a in pr.assignees],
            milestone=None,
            locked=False,
            active_lock_reason=None,
            comments=len(pr.comments),
            pull_request={
                "url": f"{api}/pulls/{n}",
                "html_url": f"{web}/pull/{n}",
                "diff_url": f"{web}/pull/{n}.diff",
                "patch_url": f"{web}/pull/{n}.patch",
                "merged_at": pr.merged_at,
            },
            closed_at=pr.closed_at,
            created_at=pr.created_at,
            updated_at=pr.updated_at,
            closed_by=None,
            author_association="MEMBER",
            draft=pr.draft,
        )
        out.pop("repository", None)
        if pr.number in repo.issues:
            del out["pull_request"]
            out["node_id"] = node_id("Issue", pr.id)
            out["html_url"] = f"{web}/issues/{n}"
        return out

    def comment(self, repo: Repository, pr: PullRequest, comment: Comment) -> dict[str, Any]:
        """An issue-comment object."""
        out: dict[str, Any] = self._relocated("issue-comment", repo.full_name)
        api = f"{self.api}/repos/{repo.full_name}"
        out.update(
            id=comment.id,
            node_id=node_id("IssueComment", comment.id),
            url=f"{api}/issues/comments/{comment.id}",
            html_url=f"{self.web}/{repo.full_name}/pull/{pr.number}#issuecomment-{comment.id}",
            body=comment.body,
            user=self.account(comment.author),
            created_at=comment.created_at,
            updated_at=comment.updated_at,
            issue_url=f"{api}/issues/{pr.number}",
            author_association="MEMBER",
        )
        return out

    # ------------------------------------------------------------------ git data
    def git_ref(self, repo: Repository, ref: str, sha: str) -> dict[str, Any]:
        """A git-ref object (url uses the plural `git/refs/` as GitHub does today)."""
        api = f"{self.api}/repos/{repo.full_name}"
        return {
            "ref": ref,
            "node_id": node_id("Ref", label_id(ref)),
            "url": f"{api}/git/{ref}",
            "object": {"type": "commit", "sha": sha, "url": f"{api}/git/commits/{sha}"},
        }

    def branch(self, repo: Repository, name: str, sha: str) -> dict[str, Any]:
        """A branch-with-protection object."""
        out: dict[str, Any] = self._relocated("branch-get", repo.full_name)
        api = f"{self.api}/repos/{repo.full_name}"
        out["name"] = name
        out["commit"]["sha"] = sha
        out["commit"]["url"] = f"{api}/commits/{sha}"
        out["commit"]["commit"]["tree"]["sha"] = repo.git.commit_info(sha).tree
        out["_links"] = {"self": f"{api}/branches/{name}", "html": f"{self.web}/tree/{name}"}
        out["protected"] = False
        out["protection_url"] = f"{api}/branches/{name}/protection"
        return out

    def git_commit(self, repo: Repository, sha: str) -> dict[str, Any]:
        """A git-commit object, read from the bare repository."""
        info = repo.git.commit_info(sha)
        api = f"{self.api}/repos/{repo.full_name}"
        return {
            "sha": sha,
            "node_id": node_id("Commit", label_id(sha)),
            "url": f"{api}/git/commits/{sha}",
            "html_url": f"{self.web}/{repo.full_name}/commit/{sha}",
            "author": {
                "name": info.author_name,
                "email": info.author_email,
                "date": info.author_date,
            },
            "committer": {
                "name": info.committer_name,
                "email": info.committer_email,
                "date": info.committer_date,
            },
            "message": info.message,
            "tree": {"sha": info.tree, "url": f"{api}/git/trees/{info.tree}"},
            "parents": [
                {
                    "sha": p,
                    "url": f"{api}/git/commits/{p}",
                    "html_url": f"{self.web}/{repo.full_name}/commit/{p}",
                }
                for p in info.parents
            ],
            "verification": {
                "verified": False,
                "reason": "unsigned",
                "signature": None,
                "payload": None,
                "verified_at": None,
            },
        }
