"""GitHub REST handlers for git data, all answered from the bare repository: refs
(get/list/create/update/delete), blobs, trees, commits (the App-mode "one commit, many files"
flow), repository contents and the combined commit status."""

from __future__ import annotations

import base64
from typing import Any

from tests.fakeforge.exchange import ApiError, ApiRequest, ApiResponse, Handler
from tests.fakeforge.github_api import DOCS, invalid, not_found, repo_of
from tests.fakeforge.github_render import GitHubRenderer, label_id, node_id
from tests.fakeforge.pulls import sync_pulls
from tests.fakeforge.state import ForgeState, Repository

__all__ = ["GitHubGitApi"]

ZERO = "0" * 40


class GitHubGitApi:
    """Git-data operations keyed by operationId."""

    def __init__(self, render: GitHubRenderer) -> None:
        self.r = render
        self.handlers: dict[str, Handler] = {
            "git/get-ref": self.get_ref,
            "git/list-matching-refs": self.matching_refs,
            "git/create-ref": self.create_ref,
            "git/update-ref": self.update_ref,
            "git/delete-ref": self.delete_ref,
            "git/get-commit": self.get_commit,
            "git/create-commit": self.create_commit,
            "git/get-tree": self.get_tree,
            "git/create-tree": self.create_tree,
            "git/get-blob": self.get_blob,
            "git/create-blob": self.create_blob,
            "repos/get-content": self.get_content,
            "repos/create-or-update-file-contents": self.put_content,
            "repos/get-combined-status-for-ref": self.combined_status,
        }

    def _api(self, repo: Repository) -> str:
        return f"{self.r.api}/repos/{repo.full_name}"

    # ------------------------------------------------------------------ refs
    def get_ref(self, forge: ForgeState, req: ApiRequest) -> ApiResponse:
        """GET .../git/ref/{ref} (ref like `heads/main`)."""
        repo = repo_of(forge, req)
        full = f"refs/{req.path_params['ref']}"
        sha = repo.git.refs(full).get(full)
        if sha is None:
            raise not_found()
        return ApiResponse(200, self.r.git_ref(repo, full, sha))

    def matching_refs(self, forge: ForgeState, req: ApiRequest) -> ApiResponse:
        """GET .../git/matching-refs/{ref} (prefix match)."""
        repo = repo_of(forge, req)
        prefix = f"refs/{req.path_params['ref']}"
        refs = sorted((k, v) for k, v in repo.git.refs().items() if k.startswith(prefix))
        return ApiResponse(200, [self.r.git_ref(repo, k, v) for k, v in refs])

    def create_ref(self, forge: ForgeState, req: ApiRequest) -> ApiResponse:
        """POST .../git/refs."""
        repo = repo_of(forge, req)
        ref, sha = req.body["ref"], req.body["sha"]
        if not ref.startswith("refs/") or ref.count("/") < 2:
            raise invalid("Reference name must start with 'refs/' and have two slashes", "ref")
        if repo.git.object_type(sha) != "commit":
            raise invalid("Object does not exist", "sha")
        if ref in repo.git.refs(ref):
            raise invalid("Reference already exists", "ref", "already_exists")
        repo.git.set_ref(ref, sha, ZERO)
        return ApiResponse(201, self.r.git_ref(repo, ref, sha))

    def update_ref(self, forge: ForgeState, req: ApiRequest) -> ApiResponse:
        """PATCH .../git/refs/{ref}: fast-forward unless `force`."""
        repo = repo_of(forge, req)
        full = f"refs/{req.path_params['ref']}"
        old = repo.git.refs(full).get(full)
        sha = req.body["sha"]
        if old is None:
            raise invalid("Reference does not exist", "ref")
        if repo.git.object_type(sha) != "commit":
            raise invalid("Object does not exist", "sha")
        if not req.body.get("force") and not repo.git.is_ancestor(old, sha):
            raise invalid("Update is not a fast forward", "sha")
        repo.git.set_ref(full, sha, old)
        return ApiResponse(200, self.r.git_ref(repo, full, sha))

    def delete_ref(self, forge: ForgeState, req: ApiRequest) -> ApiResponse:
        """DELETE .../git/refs/{ref}; open PRs from a deleted branch close."""
        repo = repo_of(forge, req)
        full = f"refs/{req.path_params['ref']}"
        if full not in repo.git.refs(full):
            raise invalid("Reference does not exist", "ref")
        repo.git.delete_ref(full)
        sync_pulls(repo)
        return ApiResponse(204)

    # ------------------------------------------------------------------ objects
    def get_commit(self, forge: ForgeState, req: ApiRequest) -> ApiResponse:
        """GET .../git/commits/{commit_sha}."""
        repo = repo_of(forge, req)
        sha = req.path_params["commit_sha"]
        if repo.git.object_type(sha) != "commit":
            raise not_found()
        return ApiResponse(200, self.r.git_commit(repo, repo.git.resolve(sha) or sha))

    def create_commit(self, forge: ForgeState, req: ApiRequest) -> ApiResponse:
        """POST .../git/commits (author defaults to the token's account)."""
        repo = repo_of(forge, req)
        body = req.body
        if repo.git.object_type(body["tree"]) != "tree":
            raise invalid("Tree SHA does not exist", "tree")
        parents = tuple(body.get("parents") or ())
        if any(repo.git.object_type(p) != "commit" for p in parents):
            raise invalid("Parent SHA does not exist or is not a commit object", "parents")
        author = body.get("author") or {}
        who = (
            author.get("name", req.user.login),
            author.get("email", f"{req.user.login}@users.fakeforge.invalid"),
        )
        sha = repo.git.commit_tree(body["tree"], parents, body["message"], who)
        return ApiResponse(201, self.r.git_commit(repo, sha))

    def _tree(self, repo: Repository, sha: str, *, recursive: bool) -> dict[str, Any]:
        api = self._api(repo)
        entries = []
        for mode, kind, obj, path in repo.git.tree_entries(sha, recursive=recursive):
            entry: dict[str, Any] = {"path": path, "mode": mode, "type": kind, "sha": obj}
            if kind == "blob":
                entry["size"] = int(repo.git.out("cat-file", "-s", obj))
                entry["url"] = f"{api}/git/blobs/{obj}"
            elif kind == "tree":
                entry["url"] = f"{api}/git/trees/{obj}"
            entries.append(entry)
        return {"sha": sha, "url": f"{api}/git/trees/{sha}", "tree": entries, "truncated": False}

    def get_tree(self, forge: ForgeState, req: ApiRequest) -> ApiResponse:
        """GET .../git/trees/{tree_sha}?recursive= (a commit or branch name also works)."""
        repo = repo_of(forge, req)
        wanted = req.path_params["tree_sha"]
        commit = repo.git.resolve(wanted)
        sha = repo.git.commit_info(commit).tree if commit else wanted
        if repo.git.object_type(sha) != "tree":
            raise not_found()
        recursive = req.q("recursive") not in (None, "", "0", "false")
        return ApiResponse(200, self._tree(repo, sha, recursive=recursive))

    def create_tree(self, forge: ForgeState, req: ApiRequest) -> ApiResponse:
        """POST .../git/trees: entries by sha or content, `sha: null` deletes."""
        repo = repo_of(forge, req)
        base = req.body.get("base_tree")
        if base is not None and repo.git.object_type(base) not in {"tree", "commit"}:
            raise invalid("base_tree is not a valid tree oid", "base_tree")
        entries: dict[str, tuple[str, str] | None] = {}
        for item in req.body["tree"]:
            if "content" in item and item.get("sha"):
                raise invalid("Use either sha or content, not both", "tree")
            if "content" in item:
                entries[item["path"]] = (
                    item["mode"],
                    repo.git.write_blob(item["content"].encode()),
                )
            elif item.get("sha") is None:
                entries[item["path"]] = None
            elif repo.git.object_type(item["sha"]) is None:
                raise invalid(f"tree.sha {item['sha']} is not a valid object", "tree")
            else:
                entries[item["path"]] = (item["mode"], item["sha"])
        sha = repo.git.tree_with_entries(base, entries)
        return ApiResponse(201, self._tree(repo, sha, recursive=False))

    def get_blob(self, forge: ForgeState, req: ApiRequest) -> ApiResponse:
        """GET .../git/blobs/{file_sha} (base64)."""
        repo = repo_of(forge, req)
        sha = req.path_params["file_sha"]
        if repo.git.object_type(sha) != "blob":
            raise not_found()
        data = repo.git.cat(sha)
        body = {
            "content": base64.b64encode(data).decode(),
            "encoding": "base64",
            "url": f"{self._api(repo)}/git/blobs/{sha}",
            "sha": sha,
            "size": len(data),
            "node_id": node_id("Blob", label_id(sha)),
        }
        return ApiResponse(200, body)

    def create_blob(self, forge: ForgeState, req: ApiRequest) -> ApiResponse:
        """POST .../git/blobs (utf-8 or base64)."""
        repo = repo_of(forge, req)
        content = req.body["content"]
        data = (
            base64.b64decode(content) if req.body.get("encoding") == "base64" else content.encode()
        )
        sha = repo.git.write_blob(data)
        return ApiResponse(201, {"url": f"{self._api(repo)}/git/blobs/{sha}", "sha": sha})

    # ------------------------------------------------------------------ contents
    def _content(
        self, repo: Repository, path: str, ref: str, data: bytes, sha: str
    ) -> dict[str, Any]:
        api, web = self._api(repo), f"{self.r.web}/{repo.full_name}"
        return {
            "type": "file",
            "encoding": "base64",
            "size": len(data),
            "name": path.rsplit("/", 1)[-1],
            "path": path,
            "content": base64.b64encode(data).decode(),
            "sha": sha,
            "url": f"{api}/contents/{path}?ref={ref}",
            "git_url": f"{api}/git/blobs/{sha}",
            "html_url": f"{web}/blob/{ref}/{path}",
            "download_url": f"{web}/raw/{ref}/{path}",
            "_links": {
                "self": f"{api}/contents/{path}",
                "git": f"{api}/git/blobs/{sha}",
                "html": f"{web}/blob/{ref}/{path}",
            },
        }

    def get_content(self, forge: ForgeState, req: ApiRequest) -> ApiResponse:
        """GET .../contents/{path}?ref= (files only; directories are not served)."""
        repo = repo_of(forge, req)
        ref = req.q("ref") or repo.default_branch
        commit = repo.git.resolve(ref)
        path = req.path_params["path"]
        data = repo.git.read_file(commit, path) if commit else None
        if commit is None or data is None:
            raise not_found()
        sha = repo.git.out("rev-parse", f"{commit}:{path}")
        return ApiResponse(200, self._content(repo, path, ref, data, sha))

    def put_content(self, forge: ForgeState, req: ApiRequest) -> ApiResponse:
        """PUT .../contents/{path}: one-file commit; `sha` must name the blob being replaced."""
        repo = repo_of(forge, req)
        body, path = req.body, req.path_params["path"]
        branch = body.get("branch") or repo.default_branch
        head = repo.git.branch_sha(branch)
        if head is None:
            raise not_found(f"Branch {branch} not found")
        old = repo.git.git("rev-parse", "-q", "--verify", f"{head}:{path}", check=False)
        old_sha = old.stdout.decode().strip() if old.returncode == 0 else None
        if old_sha and body.get("sha") != old_sha:
            message = f"{path} does not match {body.get('sha')}"
            raise ApiError(409, {"message": message, "documentation_url": DOCS})
        data = base64.b64decode(body["content"])
        author = body.get("author") or body.get("committer") or {}
        who = (
            author.get("name", req.user.login),
            author.get("email", f"{req.user.login}@users.fakeforge.invalid"),
        )
        sha = repo.git.commit_files(branch, {path: data}, body["message"], who)
        blob = repo.git.out("rev-parse", f"{sha}:{path}")
        content = self._content(repo, path, branch, data, blob)
        content.pop("encoding")
        content.pop("content")
        out = {"content": content, "commit": self.r.git_commit(repo, sha)}
        return ApiResponse(200 if old_sha else 201, out)

    def combined_status(self, forge: ForgeState, req: ApiRequest) -> ApiResponse:
        """GET .../commits/{ref}/status: `pending` with no statuses until a test reports one."""
        repo = repo_of(forge, req)
        sha = repo.git.resolve(req.path_params["ref"])
        if sha is None:
            raise not_found(f"No commit found for SHA: {req.path_params['ref']}")
        state = repo.statuses.get(sha)
        body: dict[str, Any] = self.r.contract.example("combined-commit-status")
        api = self._api(repo)
        statuses = body["statuses"][:1] if state else []
        for status in statuses:
            status.update(state=state, url=f"{api}/statuses/{sha}", context="ci/fakeforge")
            status.update(description=f"checks {state}", target_url=f"{self.r.web}/ci/{sha}")
        body.update(
            state=state or "pending",
            statuses=statuses,
            sha=sha,
            total_count=len(statuses),
            commit_url=f"{api}/commits/{sha}",
            url=f"{api}/commits/{sha}/status",
            repository=self.r.repository_simple(repo),
        )
        return ApiResponse(200, body)
