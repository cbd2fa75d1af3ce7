"""Releases on the fake forge: GitHub `GET /repos/{o}/{r}/releases`, GitLab
`GET /projects/:id/releases`, rendered from the contracts' own examples. A repository's
releases are set by tests (`ReleaseStore.add`); what the bot sends is validated like any call
(and, as everywhere on the fake, needs a token)."""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass, field
from typing import Any

from tests.fakeforge.exchange import ApiRequest, ApiResponse, Handler
from tests.fakeforge.github_api import repo_of
from tests.fakeforge.github_render import GitHubRenderer, node_id
from tests.fakeforge.gitlab_api import gitlab_repo
from tests.fakeforge.gitlab_render import GitLabRenderer, _shaped
from tests.fakeforge.pagination import paginate
from tests.fakeforge.state import ForgeState, Repository, now_iso

__all__ = ["GitHubReleases", "GitLabReleases", "Release", "ReleaseStore"]


@dataclass(frozen=True, slots=True)
class Release:
    """One release: its tag, title, notes and publication time."""

    tag: str
    name: str
    body: str
    published: str
    draft: bool = False


@dataclass
class ReleaseStore:
    """Releases per repository (newest last as added; listed newest first)."""

    releases: dict[str, list[Release]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(
        self, repo: str, tag: str, body: str = "", *, name: str = "", draft: bool = False
    ) -> None:
        """Publish a release of `repo` (full name) now."""
        with self.lock:
            self.releases.setdefault(repo, []).append(
                Release(tag, name or tag, body, now_iso(), draft)
            )

    def of(self, repo: Repository) -> list[Release]:
        """`repo`'s releases, newest first."""
        with self.lock:
            return list(reversed(self.releases.get(repo.full_name, [])))

    def reset(self) -> None:
        """Forget every release (between tests)."""
        with self.lock:
            self.releases.clear()


class GitHubReleases:
    """`repos/list-releases`."""

    def __init__(self, render: GitHubRenderer, store: ReleaseStore) -> None:
        self.r = render
        self.store = store
        self.handlers: dict[str, Handler] = {"repos/list-releases": self.list_releases}

    def _release(self, repo: Repository, index: int, release: Release) -> dict[str, Any]:
        out: dict[str, Any] = copy.deepcopy(self.r._relocated("release", repo.full_name))
        api = f"{self.r.api}/repos/{repo.full_name}/releases/{index}"
        web = f"{self.r.web}/{repo.full_name}/releases/tag/{release.tag}"
        out.update(
            id=index,
            node_id=node_id("Release", index),
            url=api,
            html_url=web,
            assets_url=f"{api}/assets",
            upload_url=f"{api}/assets{{?name,label}}",
            tag_name=release.tag,
            name=release.name,
            body=release.body,
            draft=release.draft,
            prerelease="-" in release.tag,
            created_at=release.published,
            published_at=release.published,
            assets=[],
        )
        return out

    def list_releases(self, forge: ForgeState, req: ApiRequest) -> ApiResponse:
        """GET /repos/{owner}/{repo}/releases (newest first, paginated)."""
        repo = repo_of(forge, req)
        items = self.store.of(repo)
        page, headers = paginate(req, items, default_per_page=30)
        start = 1000 + len(items)
        rendered = [self._release(repo, start - i, rel) for i, rel in enumerate(page)]
        return ApiResponse(200, rendered, headers)


class GitLabReleases:
    """`releases.list`."""

    def __init__(self, render: GitLabRenderer, store: ReleaseStore) -> None:
        self.r = render
        self.store = store
        self.handlers: dict[str, Handler] = {"releases.list": self.list_releases}

    def list_releases(self, forge: ForgeState, req: ApiRequest) -> ApiResponse:
        """GET /projects/:id/releases (newest first, paginated)."""
        repo = gitlab_repo(forge, req)
        example = self.r.contract.example("releases.get")
        page, headers = paginate(req, self.store.of(repo), default_per_page=20, gitlab=True)
        web = f"{self.r.web}/{repo.full_name}"
        body = [
            _shaped(
                example,
                {
                    "tag_name": rel.tag,
                    "name": rel.name,
                    "description": rel.body,
                    "created_at": rel.published,
                    "released_at": rel.published,
                    "author": self.r.user(forge.user_by_login("alice")),
                    "tag_path": f"/{repo.full_name}/-/tags/{rel.tag}",
                    "_links": {"self": f"{web}/-/releases/{rel.tag}"},
                    "assets": {"count": 0, "sources": [], "links": []},
                    "milestones": [],
                    "evidences": [],
                },
            )
            for rel in page
        ]
        return ApiResponse(200, body, headers)
