"""GitHub REST handlers for the issue side of the fake forge: plain issues (a dashboard issue)
and the issue view of pull requests, which share one number space as on GitHub; labels,
assignees, comments; and issue search for `is:pr`/`is:issue` bot queries."""

from __future__ import annotations

import shlex
from typing import Any

from tests.fakeforge.exchange import ApiRequest, ApiResponse, Handler
from tests.fakeforge.github_api import edit_request, label_names, not_found, repo_of
from tests.fakeforge.github_render import GitHubRenderer
from tests.fakeforge.pagination import paginate
from tests.fakeforge.pulls import find_repo
from tests.fakeforge.state import Comment, ForgeState, PullRequest, Repository, now_iso

__all__ = ["GitHubIssues"]


def _issue(forge: ForgeState, req: ApiRequest) -> tuple[Repository, PullRequest]:
    repo = repo_of(forge, req)
    number = int(req.path_params["issue_number"])
    item = repo.pulls.get(number) or repo.issues.get(number)
    if item is None:
        raise not_found()
    return repo, item


class GitHubIssues:
    """Issue-side operations keyed by operationId."""

    def __init__(self, render: GitHubRenderer) -> None:
        self.r = render
        self.handlers: dict[str, Handler] = {
            "issues/create": self.create,
            "issues/list-for-repo": self.list_for_repo,
            "issues/get": self.get,
            "issues/update": self.update,
            "issues/list-labels-on-issue": self.list_labels,
            "issues/add-labels": self.add_labels,
            "issues/remove-label": self.remove_label,
            "issues/list-comments": self.list_comments,
            "issues/create-comment": self.create_comment,
            "issues/update-comment": self.update_comment,
            "issues/add-assignees": self.add_assignees,
            "search/issues-and-pull-requests": self.search,
        }

    def create(self, forge: ForgeState, req: ApiRequest) -> ApiResponse:
        """POST /repos/{owner}/{repo}/issues."""
        repo = repo_of(forge, req)
        stamp = now_iso()
        number = max([*repo.pulls, *repo.issues], default=0) + 1
        body = req.body
        issue = PullRequest(
            number=number,
            id=forge.next_id(),
            title=str(body["title"]),
            body=body.get("body") or "",
            head="",
            base="",
            author=req.user,
            created_at=stamp,
            updated_at=stamp,
            labels=label_names(body.get("labels")),
            assignees=[a for a in body.get("assignees") or [] if forge.user_by_login(a)],
        )
        repo.issues[number] = issue
        return ApiResponse(201, self.r.issue(repo, issue))

    def list_for_repo(self, forge: ForgeState, req: ApiRequest) -> ApiResponse:
        """GET /repos/{owner}/{repo}/issues (pull requests included, as on GitHub)."""
        repo = repo_of(forge, req)
        state = req.q("state", "open")
        labels = [n for n in (req.q("labels") or "").split(",") if n]
        creator = req.q("creator")
        items = [
            item
            for item in [*repo.pulls.values(), *repo.issues.values()]
            if state in ("all", item.state)
            and all(label in item.labels for label in labels)
            and (creator is None or item.author.login == creator)
        ]
        key = {"updated": "updated_at", "comments": "comments"}.get(req.q("sort") or "")
        items.sort(
            key=lambda i: (
                len(i.comments) if key == "comments" else getattr(i, key or "created_at"),
                i.number,
            ),
            reverse=req.q("direction", "desc") == "desc",
        )
        page, headers = paginate(req, items, default_per_page=30)
        return ApiResponse(200, [self.r.issue(repo, i) for i in page], headers)

    def get(self, forge: ForgeState, req: ApiRequest) -> ApiResponse:
        """GET /repos/{owner}/{repo}/issues/{issue_number}."""
        repo, item = _issue(forge, req)
        return ApiResponse(200, self.r.issue(repo, item))

    def update(self, forge: ForgeState, req: ApiRequest) -> ApiResponse:
        """PATCH /repos/{owner}/{repo}/issues/{issue_number}: also sets labels/assignees."""
        repo, item = _issue(forge, req)
        body = dict(req.body or {})
        if "labels" in body:
            item.labels = label_names(body.pop("labels"))
        if "assignees" in body:
            item.assignees = [a for a in body.pop("assignees") or [] if forge.user_by_login(a)]
        edit_request(repo, item, body)
        return ApiResponse(200, self.r.issue(repo, item))

    def list_labels(self, forge: ForgeState, req: ApiRequest) -> ApiResponse:
        """GET .../issues/{issue_number}/labels."""
        repo, item = _issue(forge, req)
        page, headers = paginate(req, item.labels, default_per_page=30)
        return ApiResponse(200, self.r.labels(repo, page), headers)

    def add_labels(self, forge: ForgeState, req: ApiRequest) -> ApiResponse:
        """POST .../issues/{issue_number}/labels."""
        repo, item = _issue(forge, req)
        raw = req.body.get("labels", []) if isinstance(req.body, dict) else req.body
        item.labels += [n for n in label_names(raw) if n not in item.labels]
        item.updated_at = now_iso()
        return ApiResponse(200, self.r.labels(repo, item.labels))

    def remove_label(self, forge: ForgeState, req: ApiRequest) -> ApiResponse:
        """DELETE .../issues/{issue_number}/labels/{name}."""
        repo, item = _issue(forge, req)
        name = req.path_params["name"]
        if name not in item.labels:
            raise not_found("Label does not exist")
        item.labels.remove(name)
        return ApiResponse(200, self.r.labels(repo, item.labels))

    def list_comments(self, forge: ForgeState, req: ApiRequest) -> ApiResponse:
        """GET .../issues/{issue_number}/comments (oldest first)."""
        repo, item = _issue(forge, req)
        page, headers = paginate(req, item.comments, default_per_page=30)
        return ApiResponse(200, [self.r.comment(repo, item, c) for c in page], headers)

    def create_comment(self, forge: ForgeState, req: ApiRequest) -> ApiResponse:
        """POST .../issues/{issue_number}/comments."""
        repo, item = _issue(forge, req)
        stamp = now_iso()
        comment = Comment(forge.next_id(), req.body["body"], req.user, stamp, stamp)
        item.comments.append(comment)
        return ApiResponse(201, self.r.comment(repo, item, comment))

    def update_comment(self, forge: ForgeState, req: ApiRequest) -> ApiResponse:
        """PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}."""
        repo = repo_of(forge, req)
        wanted = int(req.path_params["comment_id"])
        for item in [*repo.pulls.values(), *repo.issues.values()]:
            for comment in item.comments:
                if comment.id == wanted:
                    comment.body, comment.updated_at = req.body["body"], now_iso()
                    return ApiResponse(200, self.r.comment(repo, item, comment))
        raise not_found()

    def add_assignees(self, forge: ForgeState, req: ApiRequest) -> ApiResponse:
        """POST .../issues/{issue_number}/assignees (unknown logins are ignored, as on
        GitHub)."""
        repo, item = _issue(forge, req)
        for login in req.body.get("assignees", []):
            if forge.user_by_login(login) is not None and login not in item.assignees:
                item.assignees.append(login)
        return ApiResponse(201, self.r.issue(repo, item))

    def search(self, forge: ForgeState, req: ApiRequest) -> ApiResponse:
        """GET /search/issues?q=: `repo:`, `is:pr|issue|open|closed|merged`, `author:`
        (`app/<slug>` for Apps), `head:`, `base:`, `label:`, `in:title` words."""
        terms = shlex.split(req.q("q") or "")
        found: list[tuple[Repository, PullRequest]] = []
        wanted_repo = next((t[5:] for t in terms if t.startswith("repo:")), None)
        repos = [find_repo(forge, wanted_repo)] if wanted_repo else list(forge.repos.values())
        for repo in repos:
            if repo is None or not req.user.may_see(repo.full_name):
                continue
            for item in [*repo.pulls.values(), *repo.issues.values()]:
                if all(_matches(term, repo, item) for term in terms):
                    found.append((repo, item))
        found.sort(key=lambda ri: ri[1].created_at, reverse=True)
        page, headers = paginate(req, found, default_per_page=30)
        items: list[dict[str, Any]] = []
        for repo, item in page:
            rendered = self.r.issue(repo, item)
            rendered.update(score=1.0)
            items.append(rendered)
        body = {
            "total_count": len(found),
            "incomplete_results": False,
            "search_type": "lexical",
            "items": items,
        }
        return ApiResponse(200, body, headers)


def _matches(term: str, repo: Repository, item: PullRequest) -> bool:
    key, colon, value = term.partition(":")
    is_pr = item.number in repo.pulls
    if not colon:
        return term.lower() in item.title.lower()
    match key:
        case "repo" | "in":
            return True
        case "is":
            flags = {
                "pr": is_pr,
                "issue": not is_pr,
                "open": item.state == "open",
                "closed": item.state == "closed",
                "merged": item.merged,
                "unmerged": is_pr and not item.merged,
            }
            return flags.get(value, False)
        case "type":
            return value == ("pr" if is_pr else "issue")
        case "state":
            return item.state == value
        case "author":
            return item.author.login in {value, value.removeprefix("app/") + "[bot]"}
        case "head":
            return item.head == value
        case "base":
            return item.base == value
        case "label":
            return value in item.labels
    return False
