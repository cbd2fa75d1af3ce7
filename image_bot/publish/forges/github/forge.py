"""PyGithub adapter (token or App installation), maps GithubException -> ForgeError.

API calls are budgeted: listing costs one request when the repository has at most one page
of pull requests and two otherwise (the newest page of all PRs, then every open one);
`get_repo`/`get_pull`/`get_issue` are lazy, PR data is kept from the listing so writes never
fetch first, and nothing reads an attribute a listing lacks (which would make PyGithub fetch).

Errors (see `map_github_error`):
```
BadCredentialsException, 401, TwoFactorException     -> ForgeAuthError
403 "Resource not accessible", other 403             -> ForgeAuthError
RateLimitExceededException, 429, 403 + Retry-After   -> RateLimited(retry_after)
404 / UnknownObjectException                         -> ForgeError (not found or no access)
409, 405, 422 (exists, no commits, not mergeable)    -> PullRequestConflict
BadUserAgentException, other GithubException,
  BadAttributeException                              -> ForgeError
requests.RequestException (connect, timeout, retry)  -> ForgeError
```
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import Literal, TypedDict, Unpack

import requests
from github import Auth, Github, GithubException
from github.GithubException import BadAttributeException
from github.PullRequest import PullRequest as GithubPullRequest
from github.Repository import Repository
from urllib3.util.retry import Retry

from image_bot.errors import ForgeError, PullRequestConflict, RateLimited, register_secret
from image_bot.model import CheckState, PullRequest, PullRequestState
from image_bot.publish.forge import PullRequestDraft
from image_bot.publish.forge_kind import WriteSpacer
from image_bot.publish.forges.github.checks import commit_checks
from image_bot.publish.forges.github.conversation import GitHubConversation
from image_bot.publish.forges.github.errors import map_github_error
from image_bot.publish.forges.github.kind import DEFAULT_API_URL
from image_bot.publish.listing import (
    Json,
    UnexpectedResponse,
    json_int,
    json_names,
    json_str,
    json_time,
    missing_names,
    select_bot_pull_requests,
)
from image_bot.publish.pr.marker import decode_pr_marker

__all__ = [
    "DEFAULT_API_URL",
    "GitHubForge",
    "GitHubOptions",
    "MergeMethod",
]

_PER_PAGE = 100
_log = logging.getLogger(__name__)
MergeMethod = Literal["MERGE", "SQUASH", "REBASE"]


def _transient_retry() -> Retry:
    """Retry idempotent reads on 502/503/504 twice; rate limits are the caller's to wait out."""
    return Retry(
        total=2,
        backoff_factor=0.5,
        status_forcelist=(502, 503, 504),
        allowed_methods=frozenset({"GET", "HEAD"}),
        respect_retry_after_header=False,
        raise_on_status=False,
    )


class GitHubOptions(TypedDict, total=False):
    """Keyword options of GitHubForge besides the credentials."""

    api_url: str
    branch_prefix: str
    merge_method: MergeMethod
    timeout: int
    request_interval: float
    write_interval: float
    write_spacing: WriteSpacer | None


class GitHubForge(GitHubConversation):
    """Pull requests on GitHub or GitHub Enterprise through PyGithub (issues, comments and
    permissions: `GitHubConversation`).

    `write_interval` spaces out writes (GitHub asks for one content-creating request per
    second to stay clear of secondary limits); tests against a local fake pass 0.
    `write_spacing`, shared by the adapters of repositories worked on side by side, spaces
    each write operation across all of them.
    """

    name = "github"

    def __init__(
        self,
        auth: Auth.Auth,
        *,
        api_url: str = DEFAULT_API_URL,
        branch_prefix: str = "image-bot/",
        merge_method: MergeMethod = "SQUASH",
        timeout: int = 30,
        request_interval: float = 0.25,
        write_interval: float = 1.0,
        write_spacing: WriteSpacer | None = None,
    ) -> None:
        self._write_spacing = write_spacing
        self._branch_prefix = branch_prefix
        self._merge_method: MergeMethod = merge_method
        self._gh = Github(
            auth=auth,
            base_url=api_url.rstrip("/"),
            timeout=timeout,
            per_page=_PER_PAGE,
            retry=_transient_retry(),
            seconds_between_requests=request_interval or None,
            seconds_between_writes=write_interval or None,
            lazy=True,
        )
        self._known: dict[tuple[str, int], Json] = {}
        self._writers: dict[tuple[str, str], bool] = {}

    @classmethod
    def with_token(cls, token: str, **options: Unpack[GitHubOptions]) -> GitHubForge:
        """A forge authenticated by a personal (or fine-grained, or Actions) token."""
        register_secret(token)
        return cls(Auth.Token(token), **options)

    # --- reads -----------------------------------------------------------------------------

    def rate_limit_remaining(self) -> int | None:
        """`x-ratelimit-remaining` of the last response (PyGithub keeps it); None before one."""
        remaining, _limit = self._gh.requester.rate_limiting
        return remaining if remaining >= 0 else None

    def bot_pull_requests(self, repo: str) -> list[PullRequest]:
        """Open bot PRs and the latest closed one per bot branch: one listing, two at most."""
        with self._errors(repo):
            pulls = self._repo(repo).get_pulls(state="all", sort="updated", direction="desc")
            listed = [_raw(pull) for pull in pulls.get_page(0)]
            if len(listed) >= _PER_PAGE:
                listed.extend(_raw(pull) for pull in self._repo(repo).get_pulls(state="open"))
            mine = [data for data in listed if self._is_bot_branch(data)]
            found = [_pull_request(data) for data in mine]
        for data, pr in zip(mine, found, strict=True):
            self._known[(repo, pr.number)] = data
        return select_bot_pull_requests(found)

    # --- writes ----------------------------------------------------------------------------

    def create(self, repo: str, branch: str, base: str, draft: PullRequestDraft) -> PullRequest:
        """Open the pull request, then label it and ask for reviewers and assignees."""
        self._check_budget(repo)
        with self._errors(repo):
            pull = self._repo(repo).create_pull(
                base=base, head=branch, title=draft.title, body=draft.body, draft=draft.draft
            )
            data = _raw(pull)
            created = _pull_request(data)
        self._known[(repo, created.number)] = data
        return self._decorate(repo, created, draft)

    def update(self, repo: str, pr: PullRequest, draft: PullRequestDraft) -> PullRequest:
        """Rewrite title and body; add missing labels, reviewers, assignees; flip draft."""
        self._check_budget(repo)
        with self._errors(repo):
            pull = self._pull(repo, pr.number)
            pull.edit(title=draft.title, body=draft.body)
            head_sha = pull.head.sha
            if draft.draft != pr.draft:
                if draft.draft:
                    pull.convert_to_draft()
                else:
                    pull.mark_ready_for_review()
        marker = decode_pr_marker(draft.body)
        updated = replace(
            pr,
            title=draft.title,
            head_sha=head_sha or pr.head_sha,
            draft=draft.draft,
            fingerprint=marker.fingerprint if marker else None,
            proposals=marker.proposals if marker else (),
            body=draft.body,
            notices=marker.notices if marker else (),
        )
        return self._decorate(repo, updated, draft)

    def comment(self, repo: str, pr: PullRequest, body: str) -> None:
        """Add an issue comment to the pull request."""
        self._check_budget(repo)
        with self._errors(repo):
            self._repo(repo).get_issue(pr.number).create_comment(body)

    def close(self, repo: str, pr: PullRequest, comment: str | None = None) -> None:
        """Comment (when given), then close without merging."""
        if comment:
            self.comment(repo, pr, comment)
        self._check_budget(repo)
        with self._errors(repo):
            self._pull(repo, pr.number).edit(state="closed")

    def checks(self, repo: str, sha: str) -> CheckState:
        """The checks of commit `sha`, all taken together (for promotion gates)."""
        with self._errors(repo):
            return commit_checks(self._repo(repo), sha)

    def enable_automerge(self, repo: str, pr: PullRequest) -> None:
        """GitHub auto-merge; where the repository does not allow it, merge now if checks passed."""
        self._check_budget(repo)
        with self._errors(repo):
            pull = self._pull(repo, pr.number)
            try:
                pull.enable_automerge(merge_method=self._merge_method)
            except GithubException as exc:
                if not _automerge_refused(exc):
                    raise
                self._merge_if_green(repo, pull, pr, already_clean=_is_clean_status(exc))

    # --- helpers ---------------------------------------------------------------------------

    def _decorate(self, repo: str, pr: PullRequest, draft: PullRequestDraft) -> PullRequest:
        """Add what `draft` asks for and `pr` lacks; a refused extra (422) is logged, not fatal."""
        labels = missing_names(draft.labels, pr.labels)
        assignees = missing_names(draft.assignees, pr.assignees)
        reviewers = missing_names(draft.reviewers, pr.reviewers)
        issue = self._repo(repo).get_issue(pr.number)
        if labels and self._extra(repo, pr, "labels", lambda: issue.add_to_labels(*labels)):
            pr = replace(pr, labels=pr.labels + labels)
        if assignees and self._extra(
            repo, pr, "assignees", lambda: issue.add_to_assignees(*assignees)
        ):
            pr = replace(pr, assignees=pr.assignees + assignees)
        if reviewers and self._extra(
            repo, pr, "reviewers", lambda: self._request_reviews(repo, pr.number, reviewers)
        ):
            pr = replace(pr, reviewers=pr.reviewers + reviewers)
        return pr

    def _extra(self, repo: str, pr: PullRequest, what: str, call: Callable[[], None]) -> bool:
        """Run one decorating call; False (and a warning) when GitHub refuses it."""
        self._check_budget(repo)
        try:
            with self._errors(repo):
                call()
        except PullRequestConflict as exc:
            _log.warning("pull request %s: adding %s failed: %s", pr.url, what, exc)
            return False
        return True

    def _request_reviews(self, repo: str, number: int, reviewers: Sequence[str]) -> None:
        users = [name for name in reviewers if "/" not in name]
        teams = [name.split("/", 1)[1] for name in reviewers if "/" in name]
        self._pull(repo, number).create_review_request(reviewers=users, team_reviewers=teams)

    def _merge_if_green(
        self, repo: str, pull: GithubPullRequest, pr: PullRequest, *, already_clean: bool
    ) -> None:
        if not already_clean:
            status = self._repo(repo).get_commit(pr.head_sha).get_combined_status()
            if status.state != "success":
                _log.info("pull request %s: checks are %s; merge later", pr.url, status.state)
                return
        self._check_budget(repo)
        pull.merge(merge_method=self._merge_method.lower(), sha=pr.head_sha)

    def _repo(self, repo: str) -> Repository:
        return self._gh.get_repo(repo)  # lazy: no request

    def _pull(self, repo: str, number: int) -> GithubPullRequest:
        """A PyGithub PR object without a request: from the listing's data, else lazy."""
        data = self._known.get((repo, number))
        if data is not None:
            return self._gh.create_from_raw_data(GithubPullRequest, dict(data))
        return self._repo(repo).get_pull(number)

    def _is_bot_branch(self, data: Json) -> bool:
        if not json_str(data, "head", "ref").startswith(self._branch_prefix):
            return False
        head_repo = json_str(data, "head", "repo", "full_name").lower()
        base_repo = json_str(data, "base", "repo", "full_name").lower()
        return not (head_repo and base_repo and head_repo != base_repo)  # forks are not ours

    def _check_budget(self, repo: str) -> None:
        """Refuse to write once the last response said the hourly budget is spent; else wait
        for this write's turn among the adapters sharing `write_spacing`."""
        remaining, _limit = self._gh.requester.rate_limiting
        reset = float(self._gh.requester.rate_limiting_resettime)
        wait = reset - time.time()
        if remaining == 0 and wait > 0:
            raise RateLimited(
                self.name,
                repo,
                "API rate limit exhausted (x-ratelimit-remaining: 0)",
                retry_after=wait,
            )
        if self._write_spacing is not None:
            self._write_spacing.wait()

    @contextmanager
    def _errors(self, repo: str) -> Iterator[None]:
        try:
            yield
        except (GithubException, BadAttributeException, requests.RequestException) as exc:
            raise map_github_error(exc, repo) from None
        except UnexpectedResponse as exc:
            raise ForgeError(self.name, repo, str(exc)) from None


def _raw(pull: GithubPullRequest) -> Json:
    """The JSON PyGithub received; `raw_data` would fetch the PR again to "complete" it."""
    data: Json = pull._rawData
    return data


def _pull_request(data: Json) -> PullRequest:
    body = json_str(data, "body")
    marker = decode_pr_marker(body)
    owner = json_str(data, "base", "repo", "owner", "login")
    state = PullRequestState.OPEN
    if json_str(data, "state") == "closed":
        merged = json_str(data, "merged_at") or data.get("merged") is True
        state = PullRequestState.MERGED if merged else PullRequestState.CLOSED
    return PullRequest(
        number=json_int(data, "number"),
        url=json_str(data, "html_url"),
        branch=json_str(data, "head", "ref"),
        base=json_str(data, "base", "ref"),
        head_sha=json_str(data, "head", "sha"),
        state=state,
        title=json_str(data, "title"),
        fingerprint=marker.fingerprint if marker else None,
        proposals=marker.proposals if marker else (),
        labels=json_names(data, "labels", "name"),
        draft=data.get("draft") is True,
        reviewers=json_names(data, "requested_reviewers", "login")
        + json_names(data, "requested_teams", "slug", prefix=f"{owner}/" if owner else ""),
        assignees=json_names(data, "assignees", "login"),
        created_at=json_time(data, "created_at"),
        body=body,
        notices=marker.notices if marker else (),
    )


def _graphql_errors(exc: GithubException) -> list[Mapping[str, object]]:
    data = exc.data
    errors = data.get("errors") if isinstance(data, Mapping) else None
    return [e for e in errors if isinstance(e, Mapping)] if isinstance(errors, list) else []


def _automerge_refused(exc: GithubException) -> bool:
    """GraphQL said no to auto-merge (not allowed here, or the PR can merge right now)."""
    return any(
        e.get("type") == "UNPROCESSABLE" or "auto merge" in str(e.get("message", "")).lower()
        for e in _graphql_errors(exc)
    ) or _is_clean_status(exc)


def _is_clean_status(exc: GithubException) -> bool:
    return any("clean status" in str(e.get("message", "")).lower() for e in _graphql_errors(exc))
