"""GitLab v4 handlers for projects, merge requests (a merge is a real git merge; auto-merge is
recorded until the test reports the pipeline passed) and merge request notes."""

from __future__ import annotations

import urllib.parse
from typing import Any

from tests.fakeforge.exchange import ApiError, ApiRequest, ApiResponse, Handler
from tests.fakeforge.gitlab_contract import TRUE_STRINGS
from tests.fakeforge.gitlab_render import GitLabRenderer, gitlab_state
from tests.fakeforge.pagination import paginate
from tests.fakeforge.pulls import close_pull, find_repo, merge_pull, open_pull, sync_pulls
from tests.fakeforge.state import Comment, ForgeState, PullRequest, Repository, now_iso

__all__ = ["GitLabApi", "as_bool", "gitlab_repo", "gl_error"]

DRAFT_PREFIXES = ("Draft:", "draft:", "[Draft]", "(Draft)")


def gl_error(status: int, message: Any) -> ApiError:
    """GitLab's error body."""
    return ApiError(status, {"message": message})


def gitlab_repo(forge: ForgeState, req: ApiRequest) -> Repository:
    """The project named by `:id` (numeric id or URL-encoded path)."""
    ident = urllib.parse.unquote(req.path_params["id"])
    repo = forge.repo_by_id(int(ident)) if ident.isdigit() else find_repo(forge, ident)
    if repo is None or not req.user.may_see(repo.full_name):
        raise gl_error(404, "404 Project Not Found")
    sync_pulls(repo)
    return repo


def _names(value: Any) -> list[str]:
    items = value if isinstance(value, list) else str(value or "").split(",")
    return [n.strip() for n in items if n and n.strip()]


def as_bool(value: Any) -> bool:
    """A GitLab boolean parameter (JSON true or one of the strings GitLab accepts)."""
    return value is True or value in TRUE_STRINGS


class GitLabApi:
    """The GitLab operations about projects and merge requests, keyed by endpoint id."""

    def __init__(self, render: GitLabRenderer) -> None:
        self.r = render
        self.handlers: dict[str, Handler] = {
            "projects.get": self.get_project,
            "merge_requests.list": self.list_mrs,
            "merge_requests.get": self.get_mr,
            "merge_requests.create": self.create_mr,
            "merge_requests.update": self.update_mr,
            "merge_requests.merge": self.merge,
            "merge_requests.cancel_auto_merge": self.cancel_auto_merge,
            "merge_requests.rebase": self.rebase,
            "merge_request_notes.list": self.list_notes,
            "merge_request_notes.create": self.create_note,
            "merge_request_notes.update": self.update_note,
        }

    def _mr(self, forge: ForgeState, req: ApiRequest) -> tuple[Repository, PullRequest]:
        repo = gitlab_repo(forge, req)
        pr = repo.pulls.get(int(req.path_params["merge_request_iid"]))
        if pr is None:
            raise gl_error(404, "404 Not found")
        return repo, pr

    def _render(self, forge: ForgeState, repo: Repository, pr: PullRequest, op: str) -> Any:
        return self.r.merge_request(forge, repo, pr, op)

    def get_project(self, forge: ForgeState, req: ApiRequest) -> ApiResponse:
        """GET /projects/:id."""
        return ApiResponse(200, self.r.project(gitlab_repo(forge, req)))

    def list_mrs(self, forge: ForgeState, req: ApiRequest) -> ApiResponse:
        """GET /projects/:id/merge_requests (state, source/target branch, labels, iids)."""
        repo = gitlab_repo(forge, req)
        state = req.q("state", "all")
        source, target = req.q("source_branch"), req.q("target_branch")
        labels = _names(req.q("labels"))
        iids = {int(v) for v in req.query.get("iids[]", [])}
        mrs = [
            pr
            for pr in repo.pulls.values()
            if state in ("all", gitlab_state(pr))
            and (source is None or pr.head == source)
            and (target is None or pr.base == target)
            and all(label in pr.labels for label in labels)
            and (not iids or pr.number in iids)
        ]
        key = req.q("order_by", "created_at") or "created_at"
        mrs.sort(key=lambda pr: (getattr(pr, key, pr.created_at), pr.number))
        if req.q("sort", "desc") == "desc":
            mrs.reverse()
        page, headers = paginate(req, mrs, default_per_page=20, gitlab=True)
        body = [self._render(forge, repo, pr, "merge_requests.list") for pr in page]
        return ApiResponse(200, body, headers)

    def get_mr(self, forge: ForgeState, req: ApiRequest) -> ApiResponse:
        """GET /projects/:id/merge_requests/:merge_request_iid."""
        repo, pr = self._mr(forge, req)
        body = self._render(forge, repo, pr, "merge_requests.get")
        if as_bool(req.q("include_rebase_in_progress")):
            body["rebase_in_progress"] = False  # the fake rebases synchronously
        return ApiResponse(200, body)

    def create_mr(self, forge: ForgeState, req: ApiRequest) -> ApiResponse:
        """POST /projects/:id/merge_requests."""
        repo = gitlab_repo(forge, req)
        source, target = req.arg("source_branch"), req.arg("target_branch")
        for pr in repo.pulls.values():
            if pr.state == "open" and pr.head == source and pr.base == target:
                message = "Another open merge request already exists for this source branch"
                raise gl_error(409, [f"{message}: !{pr.number}"])
        title = str(req.arg("title"))
        try:
            pr = open_pull(
                forge,
                repo,
                head=source,
                base=target,
                title=title,
                body=req.arg("description") or "",
                author=req.user,
                draft=title.startswith(DRAFT_PREFIXES),
            )
        except ValueError as exc:
            raise gl_error(422, [str(exc)]) from exc
        self._apply(forge, repo, pr, req)
        return ApiResponse(201, self._render(forge, repo, pr, "merge_requests.create"))

    def _apply(self, forge: ForgeState, repo: Repository, pr: PullRequest, req: ApiRequest) -> None:
        if (title := req.arg("title")) is not None:
            pr.title = str(title)
            pr.draft = pr.title.startswith(DRAFT_PREFIXES)
        if (description := req.arg("description")) is not None:
            pr.body = str(description)
        if (labels := req.arg("labels")) is not None:
            pr.labels = _names(labels)
        pr.labels += [n for n in _names(req.arg("add_labels")) if n not in pr.labels]
        removed = set(_names(req.arg("remove_labels")))
        pr.labels = [n for n in pr.labels if n not in removed]
        for field, key in (("assignees", "assignee_ids"), ("reviewers", "reviewer_ids")):
            ids = req.arg(key)
            if key == "assignee_ids" and ids is None and req.arg("assignee_id") is not None:
                ids = [req.arg("assignee_id")]
            if ids is not None:
                ids = ids if isinstance(ids, list) else [ids]
                users = [u for u in forge.users.values() if str(u.id) in {str(i) for i in ids}]
                setattr(pr, field, [u.login for u in users])
        if (target := req.arg("target_branch")) is not None:
            if repo.git.branch_sha(str(target)) is None:
                raise gl_error(422, ["Target branch does not exist"])
            pr.base = str(target)
        if (remove := req.arg("remove_source_branch")) is not None:
            pr.remove_source_branch = as_bool(remove)
        pr.updated_at = now_iso()

    def update_mr(self, forge: ForgeState, req: ApiRequest) -> ApiResponse:
        """PUT /projects/:id/merge_requests/:merge_request_iid (incl. state_event)."""
        repo, pr = self._mr(forge, req)
        self._apply(forge, repo, pr, req)
        event = req.arg("state_event")
        if event == "close" and pr.state == "open":
            close_pull(repo, pr)
        elif event == "reopen" and pr.state == "closed" and not pr.merged:
            pr.state, pr.closed_at = "open", None
        return ApiResponse(200, self._render(forge, repo, pr, "merge_requests.update"))

    def merge(self, forge: ForgeState, req: ApiRequest) -> ApiResponse:
        """PUT .../merge: merge now (real git merge) or record merge-when-pipeline-succeeds."""
        repo, pr = self._mr(forge, req)
        if pr.state != "open":
            raise gl_error(405, "405 Method Not Allowed")
        head_sha = repo.git.branch_sha(pr.head)
        if (sha := req.arg("sha")) and sha != head_sha:
            raise gl_error(409, "SHA does not match HEAD of source branch: " + str(head_sha))
        if as_bool(req.arg("should_remove_source_branch")):
            pr.remove_source_branch = True
        method = "squash" if as_bool(req.arg("squash")) else "merge"
        if as_bool(req.arg("merge_when_pipeline_succeeds")) or as_bool(req.arg("auto_merge")):
            pr.auto_merge = method.upper()
            return ApiResponse(200, self._render(forge, repo, pr, "merge_requests.merge"))
        message = req.arg("merge_commit_message") or (
            f"Merge branch '{pr.head}' into '{pr.base}'\n\n{pr.title}\n\n"
            f"See merge request {repo.full_name}!{pr.number}"
        )
        if merge_pull(repo, pr, req.user, message=message, method=method) is None:
            raise gl_error(422, "Branch cannot be merged")
        return ApiResponse(200, self._render(forge, repo, pr, "merge_requests.merge"))

    def cancel_auto_merge(self, forge: ForgeState, req: ApiRequest) -> ApiResponse:
        """POST .../cancel_merge_when_pipeline_succeeds."""
        repo, pr = self._mr(forge, req)
        if pr.state == "closed" and not pr.merged:
            raise gl_error(406, "Can't cancel the automatic merge")
        pr.auto_merge = None
        return ApiResponse(201, self._render(forge, repo, pr, "merge_requests.cancel_auto_merge"))

    def rebase(self, forge: ForgeState, req: ApiRequest) -> ApiResponse:
        """PUT .../rebase: replays the source branch onto the target at once (GitLab queues
        it; `rebase_in_progress` is already false when the client polls)."""
        repo, pr = self._mr(forge, req)
        head, base = repo.git.branch_sha(pr.head), repo.git.branch_sha(pr.base)
        if pr.state != "open" or head is None or base is None:
            raise gl_error(403, "Source branch does not exist")
        new = repo.git.rebase(base, head)
        if new is None:
            pr.merge_error = "Rebase failed. Please rebase locally"
        else:
            repo.git.set_ref(f"refs/heads/{pr.head}", new, head)
            pr.merge_error = None
        return ApiResponse(202, {"rebase_in_progress": True})

    def list_notes(self, forge: ForgeState, req: ApiRequest) -> ApiResponse:
        """GET .../notes (newest first by default)."""
        repo, pr = self._mr(forge, req)
        notes = list(pr.comments)
        if req.q("sort", "desc") == "desc":
            notes.reverse()
        page, headers = paginate(req, notes, default_per_page=20, gitlab=True)
        return ApiResponse(200, [self.r.note(repo, pr, n) for n in page], headers)

    def create_note(self, forge: ForgeState, req: ApiRequest) -> ApiResponse:
        """POST .../notes."""
        repo, pr = self._mr(forge, req)
        stamp = now_iso()
        note = Comment(forge.next_id(), str(req.arg("body")), req.user, stamp, stamp)
        pr.comments.append(note)
        return ApiResponse(201, self.r.note(repo, pr, note))

    def update_note(self, forge: ForgeState, req: ApiRequest) -> ApiResponse:
        """PUT .../notes/:note_id."""
        repo, pr = self._mr(forge, req)
        wanted = int(req.path_params["note_id"])
        for note in pr.comments:
            if note.id == wanted:
                note.body, note.updated_at = str(req.arg("body")), now_iso()
                return ApiResponse(200, self.r.note(repo, pr, note))
        raise gl_error(404, "404 Not found")
