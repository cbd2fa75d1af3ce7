"""GitHub REST handlers of the fake forge, one per documented operationId they serve:
repositories, branches, pull requests (a merge is a real git merge), issue comments,
labels, assignees, reviewers and the rate-limit overview."""

from __future__ import annotations

from typing import Any

from tests.fakeforge.exchange import ApiError, ApiRequest, ApiResponse, Handler
from tests.fakeforge.github_render import GitHubRenderer
from tests.fakeforge.pagination import paginate
from tests.fakeforge.pulls import (
    close_pull,
    find_repo,
    merge_pull,
    open_pull,
    sync_pulls,
)
from tests.fakeforge.state import ForgeState, PullRequest, Repository, now_iso

__all__ = ["DOCS", "GitHubApi", "edit_request", "invalid", "label_names", "not_found", "repo_of"]

DOCS = "https://docs.github.com/rest"


def not_found(message: str = "Not Found") -> ApiError:
    """GitHub's 404 body."""
    return ApiError(404, {"message": message, "documentation_url": DOCS, "status": "404"})


def invalid(message: str, field: str | None = None, code: str = "invalid") -> ApiError:
    """GitHub's 422 validation-failed body."""
    errors = [{"resource": "PullRequest", "code": code, "message": message}]
    if field:
        errors[0]["field"] = field
    body = {"message": "Validation Failed", "documentation_url": DOCS, "errors": errors}
    return ApiError(422, body)


def repo_of(forge: ForgeState, req: ApiRequest) -> Repository:
    """The repository named by `{owner}/{repo}`; 404 when unknown."""
    repo = find_repo(forge, f"{req.path_params['owner']}/{req.path_params['repo']}")
    if repo is None or not req.user.may_see(repo.full_name):
        raise not_found()
    sync_pulls(repo)
    return repo


class GitHubApi:
    """The GitHub REST operations the fake implements, keyed by operationId."""

    def __init__(self, render: GitHubRenderer) -> None:
        self.r = render
        self.handlers: dict[str, Handler] = {
            "repos/get": self.get_repo,
            "repos/get-branch": self.get_branch,
            "pulls/list": self.list_pulls,
            "pulls/create": self.create_pull,
            "pulls/get": self.get_pull,
            "pulls/update": self.update_pull,
            "pulls/check-if-merged": self.check_merged,
            "pulls/merge": self.merge,
            "pulls/request-reviewers": self.request_reviewers,
            "rate-limit/get": self.rate_limit,
        }

    # ------------------------------------------------------------------ lookups
    @staticmethod
    def _repo(forge: ForgeState, req: ApiRequest) -> Repository:
        return repo_of(forge, req)

    def _pull(self, forge: ForgeState, req: ApiRequest) -> tuple[Repository, PullRequest]:
        repo = self._repo(forge, req)
        number = req.path_params.get("pull_number") or req.path_params.get("issue_number")
        pr = repo.pulls.get(int(number or 0))
        if pr is None:
            raise not_found()
        return repo, pr

    # ------------------------------------------------------------------ repos and refs
    def get_repo(self, forge: ForgeState, req: ApiRequest) -> ApiResponse:
        """GET /repos/{owner}/{repo}."""
        return ApiResponse(200, self.r.repository(self._repo(forge, req)))

    def get_branch(self, forge: ForgeState, req: ApiRequest) -> ApiResponse:
        """GET /repos/{owner}/{repo}/branches/{branch}."""
        repo = self._repo(forge, req)
        name = req.path_params["branch"]
        sha = repo.git.branch_sha(name)
        if sha is None:
            raise not_found("Branch not found")
        return ApiResponse(200, self.r.branch(repo, name, sha))

    # ------------------------------------------------------------------ pull requests
    def list_pulls(self, forge: ForgeState, req: ApiRequest) -> ApiResponse:
        """GET /repos/{owner}/{repo}/pulls with state/head/base filters, paginated."""
        repo = self._repo(forge, req)
        state = req.q("state", "open")
        head, base = req.q("head"), req.q("base")
        pulls = [
            pr
            for pr in repo.pulls.values()
            if state in ("all", pr.state)
            and (head is None or head in (f"{repo.owner}:{pr.head}", pr.head))
            and (base is None or pr.base == base)
        ]
        key = "updated_at" if req.q("sort") == "updated" else "created_at"
        default_dir = "desc" if req.q("sort") in (None, "created") else "asc"
        reverse = req.q("direction", default_dir) == "desc"
        pulls.sort(key=lambda pr: (getattr(pr, key), pr.number), reverse=reverse)
        page, headers = paginate(req, pulls, default_per_page=30)
        return ApiResponse(200, [self.r.pull(repo, pr, simple=True) for pr in page], headers)

    def create_pull(self, forge: ForgeState, req: ApiRequest) -> ApiResponse:
        """POST /repos/{owner}/{repo}/pulls."""
        repo = self._repo(forge, req)
        body = req.body
        head = str(body.get("head", "")).split(":", 1)[-1]
        if "title" not in body and "issue" not in body:
            raise invalid("title is missing", "title", "missing_field")
        try:
            pr = open_pull(
                forge,
                repo,
                head=head,
                base=body["base"],
                title=body.get("title", ""),
                body=body.get("body") or "",
                author=req.user,
                draft=bool(body.get("draft", False)),
            )
        except ValueError as exc:
            raise invalid(str(exc), "head") from exc
        return ApiResponse(201, self.r.pull(repo, pr))

    def get_pull(self, forge: ForgeState, req: ApiRequest) -> ApiResponse:
        """GET /repos/{owner}/{repo}/pulls/{pull_number}."""
        repo, pr = self._pull(forge, req)
        return ApiResponse(200, self.r.pull(repo, pr))

    def update_pull(self, forge: ForgeState, req: ApiRequest) -> ApiResponse:
        """PATCH /repos/{owner}/{repo}/pulls/{pull_number}: title, body, state, base."""
        repo, pr = self._pull(forge, req)
        edit_request(repo, pr, req.body)
        return ApiResponse(200, self.r.pull(repo, pr))

    def check_merged(self, forge: ForgeState, req: ApiRequest) -> ApiResponse:
        """GET /repos/{owner}/{repo}/pulls/{pull_number}/merge: 204 merged, 404 not."""
        _, pr = self._pull(forge, req)
        return ApiResponse(204 if pr.merged else 404)

    def merge(self, forge: ForgeState, req: ApiRequest) -> ApiResponse:
        """PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge: a real git merge."""
        repo, pr = self._pull(forge, req)
        body = req.body or {}
        if pr.state != "open":
            raise ApiError(
                405, {"message": "Pull Request is not mergeable", "documentation_url": DOCS}
            )
        head_sha = repo.git.branch_sha(pr.head)
        if body.get("sha") and body["sha"] != head_sha:
            message = "Head branch was modified. Review and try the merge again."
            raise ApiError(409, {"message": message, "documentation_url": DOCS})
        title = body.get("commit_title") or (
            f"Merge pull request #{pr.number} from {repo.owner}/{pr.head}"
        )
        message = f"{title}\n\n{body.get('commit_message') or pr.title}"
        sha = merge_pull(
            repo, pr, req.user, message=message, method=body.get("merge_method", "merge")
        )
        if sha is None:
            raise ApiError(
                405, {"message": "Pull Request is not mergeable", "documentation_url": DOCS}
            )
        return ApiResponse(
            200, {"sha": sha, "merged": True, "message": "Pull Request successfully merged"}
        )

    def request_reviewers(self, forge: ForgeState, req: ApiRequest) -> ApiResponse:
        """POST /repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers."""
        repo, pr = self._pull(forge, req)
        for login in req.body.get("reviewers", []):
            if forge.user_by_login(login) is None:
                raise ApiError(
                    422,
                    {
                        "message": "Reviews may only be requested from collaborators.",
                        "documentation_url": DOCS,
                    },
                )
            if login not in pr.reviewers:
                pr.reviewers.append(login)
        return ApiResponse(201, self.r.pull(repo, pr, simple=True))

    # ------------------------------------------------------------------ misc
    def rate_limit(self, forge: ForgeState, req: ApiRequest) -> ApiResponse:
        """GET /rate_limit (does not count against the limit)."""
        body = self.r.contract.example("rate-limit-overview")
        core = {
            "limit": forge.rate_limit,
            "used": forge.rate_used,
            "remaining": max(0, forge.rate_limit - forge.rate_used),
            "reset": forge.rate_reset,
        }
        body["resources"]["core"] = core
        body["rate"] = dict(core)
        return ApiResponse(200, body)


def edit_request(repo: Repository, pr: PullRequest, body: dict[str, Any]) -> None:
    """Apply a PATCH of title/body/base/state to a pull request or issue."""
    if "title" in body and body["title"] is not None:
        pr.title = body["title"]
    if "body" in body:
        pr.body = body["body"] or ""
    if "base" in body:
        if repo.git.branch_sha(body["base"]) is None:
            raise invalid("Proposed base branch was not found", "base")
        pr.base = body["base"]
    if body.get("state") == "closed" and pr.state == "open":
        close_pull(repo, pr)
    elif body.get("state") == "open" and pr.state == "closed" and not pr.merged:
        if pr.head and repo.git.branch_sha(pr.head) is None:
            raise invalid("The head branch no longer exists", "state")
        pr.state, pr.closed_at = "open", None
    pr.updated_at = now_iso()


def label_names(raw: Any) -> list[str]:
    """Label names from `["a"]`, `[{"name": "a"}]` or `{"labels": [...]}` items."""
    names: list[str] = []
    for item in raw or []:
        name = item["name"] if isinstance(item, dict) else str(item)
        if name not in names:
            names.append(name)
    return names
