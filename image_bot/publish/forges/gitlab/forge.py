"""python-gitlab adapter, maps GitlabError -> ForgeError.

API calls are budgeted like the GitHub adapter: one listing request (newest page of all
merge requests) when the project has at most one page of them, else a second for every open
one; projects and MRs are addressed lazily (no GET before a write). python-gitlab's own
sleeping on 429 is switched off (`obey_rate_limit=False`) so the run decides when to come
back (`RateLimited.retry_after`); transient 5xx are retried by python-gitlab.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Literal, TypedDict

import gitlab
import requests
from gitlab.exceptions import GitlabError
from gitlab.v4.objects import Project, ProjectMergeRequest

from image_bot.errors import ForgeError, RateLimited, register_secret
from image_bot.model import CheckState, PullRequest, PullRequestState
from image_bot.publish.forge import PullRequestDraft
from image_bot.publish.forges.gitlab.checks import commit_checks
from image_bot.publish.forges.gitlab.conversation import GitLabConversation
from image_bot.publish.forges.gitlab.errors import map_gitlab_error
from image_bot.publish.forges.gitlab.kind import DEFAULT_URL
from image_bot.publish.listing import (
    Json,
    UnexpectedResponse,
    json_field,
    json_int,
    json_names,
    json_str,
    json_time,
    missing_names,
    select_bot_pull_requests,
)
from image_bot.publish.pr.marker import decode_pr_marker

__all__ = ["DEFAULT_URL", "AuthKind", "GitLabForge"]

DRAFT_PREFIX = "Draft: "
_PER_PAGE = 100


class _RequestOptions(TypedDict):
    obey_rate_limit: bool
    max_retries: int


# Never sleep on 429 (RateLimited tells the run when to come back); retry transient errors
# (5xx, connection resets) twice, not python-gitlab's default ten times with growing waits.
_NO_SLEEP = _RequestOptions(obey_rate_limit=False, max_retries=2)
AuthKind = Literal["private", "oauth", "job"]


class GitLabForge(GitLabConversation):
    """Merge requests on gitlab.com or a self-hosted GitLab through python-gitlab (issues,
    notes and access levels: `GitLabConversation`).

    `auth_kind`: `private` for personal, project and group access tokens (PRIVATE-TOKEN),
    `oauth` for OAuth2 tokens, `job` for a CI job token.
    """

    name = "gitlab"

    def __init__(
        self,
        token: str,
        *,
        url: str = DEFAULT_URL,
        auth_kind: AuthKind = "private",
        branch_prefix: str = "image-bot/",
        timeout: float = 30.0,
    ) -> None:
        register_secret(token)
        self._branch_prefix = branch_prefix
        self._last_headers: Mapping[str, str] = {}
        session = requests.Session()
        session.hooks["response"].append(self._remember_headers)
        self._gl = gitlab.Gitlab(
            url.rstrip("/"),
            private_token=token if auth_kind == "private" else None,
            oauth_token=token if auth_kind == "oauth" else None,
            job_token=token if auth_kind == "job" else None,
            timeout=timeout,
            per_page=_PER_PAGE,
            retry_transient_errors=True,
            session=session,
        )
        self._known: dict[tuple[str, int], Json] = {}
        self._user_ids: dict[str, int] = {}
        self._writers: dict[tuple[str, int], bool] = {}

    # --- reads -----------------------------------------------------------------------------

    def bot_pull_requests(self, repo: str) -> list[PullRequest]:
        """Open bot MRs, the latest closed/merged one per bot branch: one listing, two at most."""
        with self._errors(repo):
            manager = self._project(repo).mergerequests
            recent = manager.list(
                state="all", order_by="updated_at", sort="desc", page=1, **_NO_SLEEP
            )
            listed = [mr.attributes for mr in recent]
            if len(listed) >= _PER_PAGE:
                opened = manager.list(state="opened", iterator=True, **_NO_SLEEP)
                listed.extend(mr.attributes for mr in opened)
            mine = [data for data in listed if self._is_bot_branch(data)]
            found = [_merge_request(data) for data in mine]
        for data, pr in zip(mine, found, strict=True):
            self._known[(repo, pr.number)] = data
        return select_bot_pull_requests(found)

    # --- writes ----------------------------------------------------------------------------

    def create(self, repo: str, branch: str, base: str, draft: PullRequestDraft) -> PullRequest:
        """Open the merge request with labels, reviewers and assignees in one request."""
        self._check_budget(repo)
        with self._errors(repo):
            fields: dict[str, object] = {
                "source_branch": branch,
                "target_branch": base,
                "title": _title(draft),
                "description": draft.body,
                "remove_source_branch": True,
            }
            if draft.labels:
                fields["labels"] = ",".join(draft.labels)
            if draft.assignees:
                fields["assignee_ids"] = self._ids(draft.assignees)
            if draft.reviewers:
                fields["reviewer_ids"] = self._ids(draft.reviewers)
            created = self._project(repo).mergerequests.create(fields, **_NO_SLEEP)
            return self._remember(repo, created.attributes)

    def update(self, repo: str, pr: PullRequest, draft: PullRequestDraft) -> PullRequest:
        """Rewrite title (draft prefix) and description; add missing labels, people."""
        self._check_budget(repo)
        with self._errors(repo):
            fields: dict[str, object] = {"title": _title(draft), "description": draft.body}
            labels = missing_names(draft.labels, pr.labels)
            if labels:
                fields["add_labels"] = ",".join(labels)
            known = self._known.get((repo, pr.number), {})
            if missing_names(draft.assignees, pr.assignees):
                fields["assignee_ids"] = self._people_ids(known, "assignees", draft.assignees)
            if missing_names(draft.reviewers, pr.reviewers):
                fields["reviewer_ids"] = self._people_ids(known, "reviewers", draft.reviewers)
            manager = self._project(repo).mergerequests
            updated = manager.update(pr.number, fields, **_NO_SLEEP)
            return self._remember(repo, updated)

    def comment(self, repo: str, pr: PullRequest, body: str) -> None:
        """Add a note to the merge request."""
        self._check_budget(repo)
        with self._errors(repo):
            self._merge_request(repo, pr.number).notes.create({"body": body}, **_NO_SLEEP)

    def close(self, repo: str, pr: PullRequest, comment: str | None = None) -> None:
        """Comment (when given), then close without merging."""
        if comment:
            self.comment(repo, pr, comment)
        self._check_budget(repo)
        with self._errors(repo):
            manager = self._project(repo).mergerequests
            manager.update(pr.number, {"state_event": "close"}, **_NO_SLEEP)

    def checks(self, repo: str, sha: str) -> CheckState:
        """The checks of commit `sha`, all taken together (for promotion gates)."""
        with self._errors(repo):
            return commit_checks(self._project(repo), sha)

    def enable_automerge(self, repo: str, pr: PullRequest) -> None:
        """Merge when the pipeline succeeds, and only the commit the bot pushed (`sha`)."""
        self._check_budget(repo)
        with self._errors(repo):
            self._merge_request(repo, pr.number).merge(
                merge_when_pipeline_succeeds=True,
                should_remove_source_branch=True,
                sha=pr.head_sha,
                **_NO_SLEEP,
            )

    # --- helpers ---------------------------------------------------------------------------

    def _project(self, repo: str) -> Project:
        return self._gl.projects.get(repo, lazy=True)

    def _merge_request(self, repo: str, iid: int) -> ProjectMergeRequest:
        return self._project(repo).mergerequests.get(iid, lazy=True)

    def _remember(self, repo: str, data: Json) -> PullRequest:
        pr = _merge_request(data)
        self._known[(repo, pr.number)] = data
        return pr

    def _ids(self, usernames: Sequence[str]) -> list[int]:
        """User ids for usernames (GitLab wants ids); one lookup per name, cached."""
        ids: list[int] = []
        for name in usernames:
            if name not in self._user_ids:
                found = list(self._gl.users.list(username=name, get_all=False, **_NO_SLEEP))
                if not found:
                    raise ForgeError(self.name, "-", f"no GitLab user named {name!r}")
                self._user_ids[name] = json_int(found[0].attributes, "id")
            ids.append(self._user_ids[name])
        return ids

    def _people_ids(self, known: Json, key: str, wanted: Sequence[str]) -> list[int]:
        """Ids of the people already on the MR plus `wanted` (the field replaces the set)."""
        people = json_field(known, key)
        current: dict[str, int] = {}
        for person in people if isinstance(people, list) else []:
            if isinstance(person, Mapping):
                username, user_id = person.get("username"), person.get("id")
                if isinstance(username, str) and isinstance(user_id, int):
                    current[username] = user_id
        self._user_ids.update(current)
        extra = [name for name in wanted if name not in current]
        return list(current.values()) + self._ids(extra)

    def _is_bot_branch(self, data: Json) -> bool:
        if not json_str(data, "source_branch").startswith(self._branch_prefix):
            return False
        source, target = data.get("source_project_id"), data.get("target_project_id")
        return source is None or target is None or source == target  # forks are not ours

    def _remember_headers(
        self, response: requests.Response, *_args: object, **_kwargs: object
    ) -> None:
        self._last_headers = dict(response.headers)

    def rate_limit_remaining(self) -> int | None:
        """`RateLimit-Remaining` of the last response; None before one (or without it)."""
        headers = {key.lower(): value for key, value in self._last_headers.items()}
        text = headers.get("ratelimit-remaining", "")
        return int(text) if text.isdigit() else None

    def _check_budget(self, repo: str) -> None:
        """Refuse to write once the last response said the rate-limit budget is spent."""
        headers = {key.lower(): value for key, value in self._last_headers.items()}
        if headers.get("ratelimit-remaining") != "0":
            return
        try:
            wait = float(headers["ratelimit-reset"]) - time.time()
        except (KeyError, ValueError):
            return
        if wait > 0:
            raise RateLimited(
                self.name, repo, "rate limit exhausted (RateLimit-Remaining: 0)", retry_after=wait
            )

    @contextmanager
    def _errors(self, repo: str) -> Iterator[None]:
        try:
            yield
        except (GitlabError, requests.RequestException) as exc:
            raise map_gitlab_error(exc, repo, headers=self._last_headers) from None
        except UnexpectedResponse as exc:
            raise ForgeError(self.name, repo, str(exc)) from None


def _title(draft: PullRequestDraft) -> str:
    if draft.draft and not draft.title.startswith(DRAFT_PREFIX):
        return DRAFT_PREFIX + draft.title
    return draft.title


def _merge_request(data: Json) -> PullRequest:
    body = json_str(data, "description")
    marker = decode_pr_marker(body)
    state = {
        "merged": PullRequestState.MERGED,
        "opened": PullRequestState.OPEN,
        "locked": PullRequestState.OPEN,  # an open MR while it is being merged
    }.get(json_str(data, "state"), PullRequestState.CLOSED)
    title = json_str(data, "title")
    is_draft = data.get("draft") is True or data.get("work_in_progress") is True
    return PullRequest(
        number=json_int(data, "iid"),
        url=json_str(data, "web_url"),
        branch=json_str(data, "source_branch"),
        base=json_str(data, "target_branch"),
        head_sha=json_str(data, "sha"),
        state=state,
        title=title.removeprefix(DRAFT_PREFIX) if is_draft else title,
        fingerprint=marker.fingerprint if marker else None,
        proposals=marker.proposals if marker else (),
        labels=json_names(data, "labels", "name"),
        draft=is_draft,
        reviewers=json_names(data, "reviewers", "username"),
        assignees=json_names(data, "assignees", "username"),
        created_at=json_time(data, "created_at"),
        body=body,
        notices=marker.notices if marker else (),
    )
