"""Commands and the dashboard on the fake forge: who may write (GitHub collaborator
permission, GitLab project membership), and GitLab issues and issue notes (GitHub issues and
comments are in `github_issues.py`). Every answer is shaped from the contracts' examples.

Tests set permissions with `Permissions.grant(repo, login, "write"|"admin"|"read"|...)`;
the fake's `bot` and `human` accounts are admins of every repository, anyone else is not a
collaborator (404) until granted. GitLab access levels follow: admin 50, maintain 40,
write 30, triage 15, read 10.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from tests.fakeforge.exchange import ApiRequest, ApiResponse, Handler
from tests.fakeforge.github_api import not_found, repo_of
from tests.fakeforge.github_render import GitHubRenderer
from tests.fakeforge.gitlab_api import gitlab_repo, gl_error
from tests.fakeforge.gitlab_render import GitLabRenderer, _shaped
from tests.fakeforge.pagination import paginate
from tests.fakeforge.state import Comment, ForgeState, PullRequest, Repository, User, now_iso

__all__ = ["GitHubPermissions", "GitLabConversation", "Permissions", "post_comment"]

LEVELS = {"admin": 50, "maintain": 40, "write": 30, "triage": 15, "read": 10}


@dataclass
class Permissions:
    """Repository -> login -> permission (`admin`, `maintain`, `write`, `triage`, `read`)."""

    admins: set[str] = field(default_factory=set)  # logins that administer every repository
    granted: dict[tuple[str, str], str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def grant(self, repo: str, login: str, permission: str) -> None:
        """Give `login` `permission` on `repo` (full name)."""
        with self.lock:
            self.granted[(repo, login)] = permission

    def of(self, repo: Repository, login: str) -> str | None:
        """The permission of `login` on `repo`, or None (not a collaborator)."""
        if login in self.admins:
            return "admin"
        with self.lock:
            return self.granted.get((repo.full_name, login))

    def reset(self) -> None:
        """Forget every grant (between tests)."""
        with self.lock:
            self.granted.clear()


def post_comment(
    forge: ForgeState, repo: Repository, number: int, body: str, author: User
) -> Comment:
    """Comment on pull request or issue `number` as `author` (what a person does in the UI)."""
    with forge.lock:
        item = repo.pulls.get(number) or repo.issues[number]
        stamp = now_iso()
        comment = Comment(forge.next_id(), body, author, stamp, stamp)
        item.comments.append(comment)
        item.updated_at = stamp
        return comment


class GitHubPermissions:
    """`repos/get-collaborator-permission-level`."""

    def __init__(self, render: GitHubRenderer, permissions: Permissions) -> None:
        self.r = render
        self.permissions = permissions
        self.handlers: dict[str, Handler] = {
            "repos/get-collaborator-permission-level": self.permission
        }

    def permission(self, forge: ForgeState, req: ApiRequest) -> ApiResponse:
        """GET /repos/{owner}/{repo}/collaborators/{username}/permission."""
        repo = repo_of(forge, req)
        login = req.path_params["username"]
        user = forge.user_by_login(login)
        level = self.permissions.of(repo, login)
        if user is None or level is None:
            raise not_found(f"{login} is not a user")
        role = "write" if level == "write" else level
        legacy = {"maintain": "write", "triage": "read"}.get(level, level)
        collaborator = dict(self.r.account(user))
        collaborator["role_name"] = role
        collaborator.pop("user_view_type", None)
        body = {"permission": legacy, "role_name": role, "user": collaborator}
        return ApiResponse(200, body)


class GitLabConversation:
    """GitLab issues, issue notes and `members/all` over the fake's shared issues."""

    def __init__(self, render: GitLabRenderer, permissions: Permissions) -> None:
        self.r = render
        self.permissions = permissions
        self.handlers: dict[str, Handler] = {
            "issues.list": self.list_issues,
            "issues.get": self.get_issue,
            "issues.create": self.create_issue,
            "issues.update": self.update_issue,
            "issue_notes.list": self.list_notes,
            "issue_notes.create": self.create_note,
            "project_members_all.get": self.member,
        }

    # --- rendering --------------------------------------------------------------------------

    def _issue(self, repo: Repository, issue: PullRequest, example: str) -> dict[str, Any]:
        shape = self.r.contract.example(example)
        if isinstance(shape, list):
            shape = shape[0]
        web = f"{self.r.web}/{repo.full_name}/-/issues/{issue.number}"
        live = {
            "id": issue.id,
            "iid": issue.number,
            "project_id": repo.id,
            "title": issue.title,
            "description": issue.body,
            "state": "opened" if issue.state == "open" else "closed",
            "created_at": issue.created_at,
            "updated_at": issue.updated_at,
            "closed_at": issue.closed_at,
            "closed_by": None,
            "labels": list(issue.labels),
            "milestone": None,
            "assignees": [],
            "assignee": None,
            "author": self.r.user(issue.author),
            "user_notes_count": len(issue.comments),
            "merge_requests_count": 0,
            "upvotes": 0,
            "downvotes": 0,
            "due_date": None,
            "confidential": False,
            "discussion_locked": None,
            "web_url": web,
            "references": {
                "short": f"#{issue.number}",
                "relative": f"#{issue.number}",
                "full": f"{repo.full_name}#{issue.number}",
            },
            "subscribed": True,
            "has_tasks": "- [" in issue.body,
            "task_status": "",
        }
        return _shaped(shape, live)

    def _note(self, repo: Repository, issue: PullRequest, note: Comment) -> dict[str, Any]:
        live = {
            "id": note.id,
            "body": note.body,
            "author": self.r.user(note.author, detailed=True),
            "created_at": note.created_at,
            "updated_at": note.updated_at,
            "system": False,
            "noteable_id": issue.id,
            "noteable_type": "Issue",
            "project_id": repo.id,
            "noteable_iid": issue.number,
            "resolvable": False,
            "confidential": False,
            "internal": False,
            "attachment": None,
            "imported": False,
            "imported_from": "none",
        }
        return _shaped(self.r.contract.example("issue_notes.create"), live)

    @staticmethod
    def _find(forge: ForgeState, req: ApiRequest) -> tuple[Repository, PullRequest]:
        repo = gitlab_repo(forge, req)
        issue = repo.issues.get(int(req.path_params["issue_iid"]))
        if issue is None:
            raise gl_error(404, "404 Not found")
        return repo, issue

    # --- issues -----------------------------------------------------------------------------

    def list_issues(self, forge: ForgeState, req: ApiRequest) -> ApiResponse:
        """GET /projects/:id/issues (state, labels, author_username), newest first."""
        repo = gitlab_repo(forge, req)
        state = {"opened": "open", "closed": "closed"}.get(req.q("state") or "", "all")
        labels = [name for name in (req.q("labels") or "").split(",") if name]
        author = req.q("author_username")
        items = [
            issue
            for issue in sorted(repo.issues.values(), key=lambda i: i.number, reverse=True)
            if state in ("all", issue.state)
            and all(label in issue.labels for label in labels)
            and (author is None or issue.author.login == author)
        ]
        page, headers = paginate(req, items, default_per_page=20, gitlab=True)
        return ApiResponse(200, [self._issue(repo, i, "issues.list") for i in page], headers)

    def get_issue(self, forge: ForgeState, req: ApiRequest) -> ApiResponse:
        """GET /projects/:id/issues/:issue_iid."""
        repo, issue = self._find(forge, req)
        return ApiResponse(200, self._issue(repo, issue, "issues.get"))

    def create_issue(self, forge: ForgeState, req: ApiRequest) -> ApiResponse:
        """POST /projects/:id/issues."""
        repo = gitlab_repo(forge, req)
        stamp = now_iso()
        number = max([*repo.pulls, *repo.issues], default=0) + 1
        labels = [n.strip() for n in str(req.arg("labels") or "").split(",") if n.strip()]
        issue = PullRequest(
            number=number, id=forge.next_id(), title=str(req.arg("title")),
            body=str(req.arg("description") or ""), head="", base="", author=req.user,
            created_at=stamp, updated_at=stamp, labels=labels,
        )  # fmt: skip
        repo.issues[number] = issue
        return ApiResponse(201, self._issue(repo, issue, "issues.create"))

    def update_issue(self, forge: ForgeState, req: ApiRequest) -> ApiResponse:
        """PUT /projects/:id/issues/:issue_iid (title, description, state_event)."""
        repo, issue = self._find(forge, req)
        if (title := req.arg("title")) is not None:
            issue.title = str(title)
        if (description := req.arg("description")) is not None:
            issue.body = str(description)
        event = req.arg("state_event")
        if event == "close":
            issue.state, issue.closed_at = "closed", now_iso()
        elif event == "reopen":
            issue.state, issue.closed_at = "open", None
        issue.updated_at = now_iso()
        return ApiResponse(200, self._issue(repo, issue, "issues.update"))

    # --- notes ------------------------------------------------------------------------------

    def list_notes(self, forge: ForgeState, req: ApiRequest) -> ApiResponse:
        """GET /projects/:id/issues/:issue_iid/notes (newest first unless `sort=asc`)."""
        repo, issue = self._find(forge, req)
        notes = list(issue.comments)
        if req.q("sort", "desc") == "desc":
            notes.reverse()
        page, headers = paginate(req, notes, default_per_page=20, gitlab=True)
        return ApiResponse(200, [self._note(repo, issue, n) for n in page], headers)

    def create_note(self, forge: ForgeState, req: ApiRequest) -> ApiResponse:
        """POST /projects/:id/issues/:issue_iid/notes."""
        repo, issue = self._find(forge, req)
        stamp = now_iso()
        note = Comment(forge.next_id(), str(req.arg("body")), req.user, stamp, stamp)
        issue.comments.append(note)
        issue.updated_at = stamp
        return ApiResponse(201, self._note(repo, issue, note))

    # --- members ----------------------------------------------------------------------------

    def member(self, forge: ForgeState, req: ApiRequest) -> ApiResponse:
        """GET /projects/:id/members/all/:user_id."""
        repo = gitlab_repo(forge, req)
        wanted = int(req.path_params["user_id"])
        user = next((u for u in forge.users.values() if u.id == wanted), None)
        level = self.permissions.of(repo, user.login) if user is not None else None
        if user is None or level is None:
            raise gl_error(404, "404 Not found")
        live = {
            **(self.r.user(user) or {}),
            "access_level": LEVELS.get(level, 0),
            "email": f"{user.login}@users.fakeforge.invalid",
            "expires_at": None,
            "group_saml_identity": None,
        }
        return ApiResponse(200, _shaped(self.r.contract.example("project_members_all.get"), live))
