"""Webhook deliveries from the fake forge. After every API call, git push and control action
the sender turns what happened (pull request events recorded by `pulls`, branch heads that
moved) into GitHub `pull_request` / `push` deliveries, signed with `X-Hub-Signature-256`, and
GitLab `Merge Request Hook` / `Push Hook` deliveries carrying `X-Gitlab-Token`. GitHub payloads
are validated against the `webhook-*` schemas of the contract before they are sent; GitLab
merge request payloads carry the keys of the documented example (the GitLab push payload is
not transcribed in the contracts: its shape here is GitLab's usual one, unverified)."""

from __future__ import annotations

import hashlib
import hmac
import json
import queue
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from tests.fakeforge.contracts import GitHubContract
from tests.fakeforge.github_render import GitHubRenderer
from tests.fakeforge.gitlab_render import GitLabRenderer
from tests.fakeforge.pulls import sync_pulls
from tests.fakeforge.state import ForgeState, PullRequest, Repository

__all__ = ["Delivery", "Hook", "WebhookSender"]

ZERO = "0" * 40
GITLAB_MR_ACTIONS = {
    "opened": "open",
    "closed": "close",
    "reopened": "reopen",
    "edited": "update",
    "synchronize": "update",  # a push to the source branch
}


@dataclass(frozen=True, slots=True)
class Hook:
    """A webhook: where to POST, in which flavour, with which secret, for which repo."""

    id: int
    url: str
    flavour: str  # github | gitlab
    secret: str | None
    repo: str | None  # None: every repository


@dataclass(frozen=True, slots=True)
class Delivery:
    """One delivery attempt and what the receiver answered (status None: no answer)."""

    hook: Hook
    event: str
    headers: dict[str, str]
    payload: dict[str, Any]
    status: int | None


class WebhookSender:
    """Builds deliveries from forge events and posts them on a background thread."""

    def __init__(
        self,
        forge: ForgeState,
        contract: GitHubContract,
        github: GitHubRenderer,
        gitlab: GitLabRenderer,
    ) -> None:
        self.forge = forge
        self.contract = contract
        self.gh = github
        self.gl = gitlab
        self.hooks: list[Hook] = []
        self.deliveries: list[Delivery] = []
        self._heads: dict[str, dict[str, str]] = {}
        self._pulls: dict[tuple[str, int], tuple[str, str, str]] = {}
        self._queue: queue.Queue[tuple[Hook, str, dict[str, str], dict[str, Any], bytes]] = (
            queue.Queue()
        )
        threading.Thread(target=self._post_forever, name="fakeforge-hooks", daemon=True).start()

    def reset(self) -> None:
        """Forget hooks and deliveries (between tests)."""
        self.flush()
        self.hooks.clear()
        self.deliveries.clear()
        self._heads.clear()
        self._pulls.clear()

    def add(self, url: str, flavour: str, secret: str | None, repo: str | None) -> Hook:
        """Register a hook; branch heads are remembered from now on."""
        with self.forge.lock:
            hook = Hook(self.forge.next_id(), url, flavour, secret, repo)
            self.hooks.append(hook)
            for r in self.forge.repos.values():
                self._heads.setdefault(r.full_name, r.git.heads())
                for pr in r.pulls.values():
                    self._pulls.setdefault((r.full_name, pr.number), (pr.state, pr.title, pr.body))
            return hook

    def flush(self, timeout: float = 10.0) -> None:
        """Wait until every queued delivery was attempted."""
        del timeout  # queue.join has no timeout; deliveries themselves time out
        self._queue.join()

    # ------------------------------------------------------------------ building
    def pump(self) -> None:
        """Compare pull requests and branch heads with what was seen last time and deliver
        what changed: pushes first, then pull request opened/closed/reopened/edited."""
        with self.forge.lock:
            if not self.hooks:
                return
            for repo in list(self.forge.repos.values()):
                sync_pulls(repo)  # a pushed deletion or merge changes requests too
                now = repo.git.heads()
                before = self._heads.get(repo.full_name, now)
                self._heads[repo.full_name] = now
                for branch in sorted(set(before) | set(now)):
                    if before.get(branch) != now.get(branch):
                        self._push(repo, branch, before.get(branch, ZERO), now.get(branch, ZERO))
                for pr in repo.pulls.values():
                    old_head, new_head = before.get(pr.head, ZERO), now.get(pr.head, ZERO)
                    moved = (old_head, new_head) if old_head != new_head else None
                    self._pull_changes(repo, pr, moved)

    def _pull_changes(
        self, repo: Repository, pr: PullRequest, moved: tuple[str, str] | None
    ) -> None:
        """opened / closed / reopened / edited (with `changes`) / synchronize (head moved)."""
        seen = (pr.state, pr.title, pr.body)
        old = self._pulls.get((repo.full_name, pr.number))
        self._pulls[(repo.full_name, pr.number)] = seen
        if old is None:
            self._pull_request(repo, pr, "opened")
        elif old[0] != seen[0]:
            self._pull_request(repo, pr, "closed" if pr.state == "closed" else "reopened")
        else:
            if old != seen:
                changes = {
                    key: {"from": was}
                    for key, was, now in (("title", old[1], pr.title), ("body", old[2], pr.body))
                    if was != now
                }
                self._pull_request(repo, pr, "edited", {"changes": changes})
            if moved and pr.state == "open":
                self._pull_request(repo, pr, "synchronize", {"before": moved[0], "after": moved[1]})

    def _hooks_for(self, repo: Repository) -> list[Hook]:
        return [h for h in self.hooks if h.repo is None or h.repo.lower() == repo.full_name.lower()]

    def _pull_request(
        self,
        repo: Repository,
        pr: PullRequest,
        action: str,
        extra: dict[str, Any] | None = None,
    ) -> None:
        """Deliver one pull request event; `extra` adds action-specific payload fields."""
        for hook in self._hooks_for(repo):
            if hook.flavour == "github":
                payload = {
                    "action": action,
                    "number": pr.number,
                    "pull_request": self.gh.pull(repo, pr),
                    "repository": self.gh.repository(repo),
                    "sender": self.gh.account(pr.merged_by or pr.author),
                }
                payload.update(extra or {})
                self._send(hook, "pull_request", payload, f"pull-request-{action}")
            else:
                gl_action = "merge" if pr.merged else GITLAB_MR_ACTIONS[action]
                self._send(hook, "Merge Request Hook", self._gitlab_mr(repo, pr, gl_action), None)

    def _push(self, repo: Repository, branch: str, before: str, after: str) -> None:
        for hook in self._hooks_for(repo):
            if hook.flavour == "github":
                self._send(hook, "push", self._github_push(repo, branch, before, after), "push")
            else:
                self._send(hook, "Push Hook", self._gitlab_push(repo, branch, before, after), None)

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

    def _github_push(
        self, repo: Repository, branch: str, before: str, after: str
    ) -> dict[str, Any]:
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

    def _gitlab_project(self, repo: Repository) -> dict[str, Any]:
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

    def _gitlab_mr(self, repo: Repository, pr: PullRequest, action: str) -> dict[str, Any]:
        mr = self.gl.merge_request(self.forge, repo, pr, "merge_requests.get")
        head = mr["sha"] or ZERO
        project = self._gitlab_project(repo)
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

    def _gitlab_push(
        self, repo: Repository, branch: str, before: str, after: str
    ) -> dict[str, Any]:
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
            "project": self._gitlab_project(repo),
            "commits": commits,
            "total_commits_count": len(commits),
            "repository": {"name": repo.name, "url": f"{self.gl.web}/{repo.full_name}.git"},
        }

    # ------------------------------------------------------------------ sending
    def _send(self, hook: Hook, event: str, payload: dict[str, Any], schema: str | None) -> None:
        if schema is not None:
            for problem in self.contract.check_webhook(schema, payload):
                self.forge.violation(f"webhook {schema}: {problem}")
        body = json.dumps(payload).encode()
        guid = str(uuid.uuid4())
        headers = {"Content-Type": "application/json"}
        if hook.flavour == "github":
            headers |= {
                "User-Agent": "GitHub-Hookshot/fakeforge",
                "X-GitHub-Event": event,
                "X-GitHub-Delivery": guid,
                "X-GitHub-Hook-ID": str(hook.id),
                "X-GitHub-Hook-Installation-Target-Type": "repository",
                "X-GitHub-Hook-Installation-Target-ID": str(payload["repository"]["id"]),
            }
            if hook.secret:
                digest = hmac.new(hook.secret.encode(), body, hashlib.sha256).hexdigest()
                headers["X-Hub-Signature-256"] = f"sha256={digest}"
        else:
            headers |= {
                "User-Agent": "GitLab/17.10.0",
                "X-Gitlab-Event": event,
                "X-Gitlab-Instance": self.gl.web,
                "X-Gitlab-Webhook-UUID": str(uuid.uuid5(uuid.NAMESPACE_URL, str(hook.id))),
                "X-Gitlab-Event-UUID": guid,
                "Idempotency-Key": guid,
            }
            if hook.secret:
                headers["X-Gitlab-Token"] = hook.secret
        self._queue.put((hook, event, headers, payload, body))

    def _post_forever(self) -> None:
        with httpx.Client(timeout=10.0) as client:
            while True:
                hook, event, headers, payload, body = self._queue.get()
                try:
                    status: int | None = client.post(
                        hook.url, content=body, headers=headers
                    ).status_code
                except httpx.HTTPError:
                    status = None
                self.deliveries.append(Delivery(hook, event, headers, payload, status))
                self._queue.task_done()
