"""Webhook deliveries from the fake forge. After every write call, git push and control action
the sender compares branch heads and pull requests with what it saw last, and delivers GitHub
`pull_request` / `push` (signed with `X-Hub-Signature-256`) or GitLab `Merge Request Hook` /
`Push Hook` (carrying `X-Gitlab-Token`) from a background thread. GitHub payloads are validated
against the contract's `webhook-*` schemas before they are sent."""

from __future__ import annotations

import hashlib
import hmac
import json
import queue
import threading
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from tests.fakeforge.contracts import GitHubContract
from tests.fakeforge.github_render import GitHubRenderer
from tests.fakeforge.gitlab_render import GitLabRenderer
from tests.fakeforge.pulls import sync_pulls
from tests.fakeforge.state import ForgeState, PullRequest, Repository
from tests.fakeforge.webhook_payloads import ZERO, Payloads

__all__ = ["Delivery", "Hook", "WebhookSender"]

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
        self.payloads = Payloads(forge, github, gitlab)
        self.gitlab_url = gitlab.web
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
                payload = self.payloads.github_pull_request(repo, pr, action, extra)
                self._send(hook, "pull_request", payload, f"pull-request-{action}")
            else:
                gl_action = "merge" if pr.merged else GITLAB_MR_ACTIONS[action]
                self._send(
                    hook,
                    "Merge Request Hook",
                    self.payloads.gitlab_merge_request(repo, pr, gl_action),
                    None,
                )

    def _push(self, repo: Repository, branch: str, before: str, after: str) -> None:
        for hook in self._hooks_for(repo):
            if hook.flavour == "github":
                self._send(
                    hook, "push", self.payloads.github_push(repo, branch, before, after), "push"
                )
            else:
                self._send(
                    hook, "Push Hook", self.payloads.gitlab_push(repo, branch, before, after), None
                )

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
                "X-Gitlab-Instance": self.gitlab_url,
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
