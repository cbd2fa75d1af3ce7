"""GitLab v4 handlers for repository data: branches, files and commits (including the
multi-file `actions[]` commit), all read from and written to the bare git repository."""

from __future__ import annotations

import base64
import hashlib
import re

from tests.fakeforge.barerepo import GitFailed
from tests.fakeforge.exchange import ApiRequest, ApiResponse, Handler
from tests.fakeforge.gitlab_api import as_bool, gitlab_repo, gl_error
from tests.fakeforge.gitlab_render import GitLabRenderer
from tests.fakeforge.pagination import paginate
from tests.fakeforge.state import ForgeState, Repository

__all__ = ["GitLabRepoApi"]


def _author(req: ApiRequest) -> tuple[str, str]:
    name = req.arg("author_name") or req.user.login
    email = req.arg("author_email") or f"{req.user.login}@users.fakeforge.invalid"
    return str(name), str(email)


def _content(text: str, encoding: str | None) -> bytes:
    return base64.b64decode(text) if encoding == "base64" else text.encode()


class GitLabRepoApi:
    """Branches, files and commits, keyed by endpoint id."""

    def __init__(self, render: GitLabRenderer) -> None:
        self.r = render
        self.handlers: dict[str, Handler] = {
            "branches.list": self.list_branches,
            "branches.get": self.get_branch,
            "branches.create": self.create_branch,
            "branches.delete": self.delete_branch,
            "files.get": self.get_file,
            "files.raw": self.raw_file,
            "files.head": self.head_file,
            "files.create": self.write_file,
            "files.update": self.write_file,
            "files.delete": self.write_file,
            "commits.create": self.create_commit,
            "commits.get": self.get_commit,
            "commits.list": self.list_commits,
        }

    # ------------------------------------------------------------------ branches
    def list_branches(self, forge: ForgeState, req: ApiRequest) -> ApiResponse:
        """GET /projects/:id/repository/branches (search / regex)."""
        repo = gitlab_repo(forge, req)
        branches = sorted(repo.git.branches().items())
        if search := req.q("search"):
            term = search.strip("^$")
            branches = [
                (n, s)
                for n, s in branches
                if (n.startswith(term) if search.startswith("^") else True)
                and (n.endswith(term) if search.endswith("$") else True)
                and term in n
            ]
        if regex := req.q("regex"):
            branches = [(n, s) for n, s in branches if re.search(regex, n)]
        page, headers = paginate(req, branches, default_per_page=20, gitlab=True)
        body = [self.r.branch(repo, n, s, "branches.get") for n, s in page]
        return ApiResponse(200, body, headers)

    def get_branch(self, forge: ForgeState, req: ApiRequest) -> ApiResponse:
        """GET /projects/:id/repository/branches/:branch."""
        repo = gitlab_repo(forge, req)
        name = req.path_params["branch"]
        sha = repo.git.branch_sha(name)
        if sha is None:
            raise gl_error(404, "404 Branch Not Found")
        return ApiResponse(200, self.r.branch(repo, name, sha, "branches.get"))

    def create_branch(self, forge: ForgeState, req: ApiRequest) -> ApiResponse:
        """POST /projects/:id/repository/branches."""
        repo = gitlab_repo(forge, req)
        name, ref = str(req.arg("branch")), str(req.arg("ref"))
        if repo.git.branch_sha(name) is not None:
            raise gl_error(400, "Branch already exists")
        sha = repo.git.resolve(ref)
        if sha is None:
            raise gl_error(400, "Invalid reference name: " + ref)
        repo.git.set_ref(f"refs/heads/{name}", sha, "0" * 40)
        return ApiResponse(201, self.r.branch(repo, name, sha, "branches.create"))

    def delete_branch(self, forge: ForgeState, req: ApiRequest) -> ApiResponse:
        """DELETE /projects/:id/repository/branches/:branch."""
        repo = gitlab_repo(forge, req)
        name = req.path_params["branch"]
        if repo.git.branch_sha(name) is None:
            raise gl_error(404, "404 Branch Not Found")
        if name == repo.default_branch:
            raise gl_error(405, "405 Method Not Allowed")
        repo.git.delete_ref(f"refs/heads/{name}")
        return ApiResponse(204)

    # ------------------------------------------------------------------ files
    def _file(self, repo: Repository, req: ApiRequest) -> tuple[str, str, bytes]:
        path = req.path_params["file_path"]
        ref = req.q("ref") or repo.default_branch
        ref = repo.default_branch if ref == "HEAD" else ref
        sha = repo.git.resolve(ref)
        data = repo.git.read_file(sha, path) if sha else None
        if sha is None or data is None:
            raise gl_error(404, "404 File Not Found")
        return ref, sha, data

    def get_file(self, forge: ForgeState, req: ApiRequest) -> ApiResponse:
        """GET /projects/:id/repository/files/:file_path?ref=."""
        repo = gitlab_repo(forge, req)
        ref, sha, data = self._file(repo, req)
        path = req.path_params["file_path"]
        last = repo.git.out("log", "-1", "--format=%H", sha, "--", path)
        body = {
            "file_name": path.rsplit("/", 1)[-1],
            "file_path": path,
            "size": len(data),
            "encoding": "base64",
            "content": base64.b64encode(data).decode(),
            "content_sha256": hashlib.sha256(data).hexdigest(),
            "ref": ref,
            "blob_id": repo.git.out("rev-parse", f"{sha}:{path}"),
            "commit_id": sha,
            "last_commit_id": last,
            "execute_filemode": False,
        }
        return ApiResponse(200, body)

    def head_file(self, forge: ForgeState, req: ApiRequest) -> ApiResponse:
        """HEAD /projects/:id/repository/files/:file_path?ref=: the metadata as headers."""
        body = self.get_file(forge, req).body
        names = {
            "blob_id": "Blob-Id",
            "commit_id": "Commit-Id",
            "content_sha256": "Content-Sha256",
            "encoding": "Encoding",
            "file_name": "File-Name",
            "file_path": "File-Path",
            "last_commit_id": "Last-Commit-Id",
            "ref": "Ref",
            "size": "Size",
            "execute_filemode": "Execute-Filemode",
        }
        headers = {
            f"X-Gitlab-{h}": str(body[k]).lower() if isinstance(body[k], bool) else str(body[k])
            for k, h in names.items()
        }
        return ApiResponse(200, None, headers)

    def raw_file(self, forge: ForgeState, req: ApiRequest) -> ApiResponse:
        """GET /projects/:id/repository/files/:file_path/raw."""
        repo = gitlab_repo(forge, req)
        _, _, data = self._file(repo, req)
        return ApiResponse(200, None, raw=data)

    def write_file(self, forge: ForgeState, req: ApiRequest) -> ApiResponse:
        """POST / PUT / DELETE /projects/:id/repository/files/:file_path: one-file commit."""
        repo = gitlab_repo(forge, req)
        path, branch = req.path_params["file_path"], str(req.arg("branch"))
        start = req.arg("start_branch")
        base = repo.git.branch_sha(str(start) if start else branch)
        if base is None:
            raise gl_error(400, "You can only create or edit files when you are on a branch")
        exists = repo.git.read_file(base, path) is not None
        if req.method == "POST" and exists:
            raise gl_error(400, "A file with this name already exists")
        if req.method != "POST" and not exists:
            raise gl_error(400, "A file with this name doesn't exist")
        content = (
            None
            if req.method == "DELETE"
            else _content(str(req.arg("content")), req.arg("encoding"))
        )
        repo.git.commit_files(
            branch, {path: content}, str(req.arg("commit_message")), _author(req), start=base
        )
        if req.method == "DELETE":
            return ApiResponse(204)
        return ApiResponse(
            201 if req.method == "POST" else 200, {"file_path": path, "branch": branch}
        )

    # ------------------------------------------------------------------ commits
    def create_commit(self, forge: ForgeState, req: ApiRequest) -> ApiResponse:
        """POST /projects/:id/repository/commits with `actions[]`."""
        repo = gitlab_repo(forge, req)
        branch = str(req.arg("branch"))
        start = req.arg("start_sha") or req.arg("start_branch")
        existing = repo.git.branch_sha(branch)
        if existing is not None and start and not as_bool(req.arg("force")):
            start = None  # GitLab commits onto an existing branch unless forced
        parent = repo.git.resolve(str(start)) if start else existing
        if parent is None:
            raise gl_error(400, "You can only create or edit files when you are on a branch")
        files: dict[str, bytes | None] = {}
        for action in req.arg("actions") or []:
            kind, path = action.get("action"), action.get("file_path")
            exists = repo.git.read_file(parent, path) is not None or path in files
            if kind == "create" and exists:
                raise gl_error(400, f"A file with this name already exists: {path}")
            if kind in {"update", "delete", "chmod"} and not exists:
                raise gl_error(400, f"A file with this name doesn't exist: {path}")
            if kind == "delete":
                files[path] = None
            elif kind == "move":
                old = action["previous_path"]
                data = repo.git.read_file(parent, old) or b""
                files[old] = None
                content = action.get("content")
                files[path] = data if content is None else _content(content, action.get("encoding"))
            elif kind in {"create", "update"}:
                files[path] = _content(action.get("content", ""), action.get("encoding"))
        try:
            sha = repo.git.commit_files(
                branch, files, str(req.arg("commit_message")), _author(req), start=parent
            )
        except GitFailed as exc:
            raise gl_error(400, str(exc)) from exc
        return ApiResponse(201, self.r.commit(repo, sha, "commits.create"))

    def get_commit(self, forge: ForgeState, req: ApiRequest) -> ApiResponse:
        """GET /projects/:id/repository/commits/:sha (sha or branch)."""
        repo = gitlab_repo(forge, req)
        sha = repo.git.resolve(req.path_params["sha"])
        if sha is None:
            raise gl_error(404, "404 Commit Not Found")
        return ApiResponse(200, self.r.commit(repo, sha, "commits.get"))

    def list_commits(self, forge: ForgeState, req: ApiRequest) -> ApiResponse:
        """GET /projects/:id/repository/commits (ref_name, path); no X-Total, as on GitLab."""
        repo = gitlab_repo(forge, req)
        ref = req.q("ref_name") or repo.default_branch
        if repo.git.resolve(ref) is None:
            raise gl_error(404, "404 Reference Not Found")
        path = req.q("path")
        shas = repo.git.out("rev-list", ref, *(["--", path] if path else [])).split()
        page, headers = paginate(req, shas, default_per_page=20, gitlab=True, totals=False)
        return ApiResponse(200, [self.r.commit(repo, s, "commits.create") for s in page], headers)
