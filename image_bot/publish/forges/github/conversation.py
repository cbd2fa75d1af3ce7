"""GitHub's side of commands and the dashboard: the dashboard issue, comment counts, comments,
replies and the commenter's permission (a mixin of GitHubForge, sharing its client).

Reads per pass: the dashboard (`GET /issues?labels=L&state=open`, one page) and the comment
counts of recently updated open pull requests (`GET /issues?state=open&sort=updated`, one
page); a pull request's comments only when its count moved. Permissions: one
`GET /collaborators/{login}/permission` per commenter per forge instance (a pass).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

from github import Github, GithubException
from github.IssueComment import IssueComment
from github.PaginatedList import PaginatedList
from github.Repository import Repository

from image_bot.model import Comment, Issue
from image_bot.publish.listing import Json, json_count, json_field, json_int, json_str
from image_bot.publish.steering.memory import decode_memory

__all__ = ["GitHubConversation"]

_PER_PAGE = 100
_MAX_COMMENT_PAGES = 5
_WRITERS = frozenset({"admin", "maintain", "write"})


def _issue(data: Json) -> Issue:
    return Issue(
        number=json_int(data, "number"),
        url=json_str(data, "html_url"),
        title=json_str(data, "title"),
        body=json_str(data, "body"),
        comments=json_count(data.get("comments")),
    )


class GitHubConversation:
    """Issues, comments and permissions for GitHubForge (which provides `_gh`, `_repo`,
    `_errors` and `_check_budget`)."""

    _gh: Github
    _writers: dict[tuple[str, str], bool]

    if TYPE_CHECKING:

        def _repo(self, repo: str) -> Repository: ...
        def _errors(self, repo: str) -> AbstractContextManager[None]: ...
        def _check_budget(self, repo: str) -> None: ...

    def dashboard(self, repo: str, label: str) -> Issue | None:
        """The bot's open dashboard: an open issue labelled `label` with the memory marker."""
        with self._errors(repo):
            page = self._repo(repo).get_issues(state="open", labels=[label]).get_page(0)
            listed: list[Json] = [item._rawData for item in page]
        for data in listed:
            if data.get("pull_request") is None and decode_memory(json_str(data, "body")):
                return _issue(data)
        return None

    def open_issue(self, repo: str, title: str, body: str, labels: tuple[str, ...]) -> Issue:
        """Open an issue (the dashboard)."""
        self._check_budget(repo)
        with self._errors(repo):
            created = self._repo(repo).create_issue(title=title, body=body, labels=list(labels))
            return _issue(created._rawData)

    def edit_issue(self, repo: str, issue: Issue, title: str, body: str) -> Issue:
        """Rewrite an issue's title and body."""
        self._check_budget(repo)
        with self._errors(repo):
            self._repo(repo).get_issue(issue.number).edit(title=title, body=body)
        return Issue(issue.number, issue.url, title, body, issue.comments)

    def comment_counts(self, repo: str) -> Mapping[int, int]:
        """Comments per recently updated open pull request (one page, newest update first)."""
        with self._errors(repo):
            issues = self._repo(repo).get_issues(state="open", sort="updated", direction="desc")
            listed: list[Json] = [item._rawData for item in issues.get_page(0)]
        return {
            json_int(data, "number"): json_count(data.get("comments"))
            for data in listed
            if data.get("pull_request") is not None
        }

    def comments(self, repo: str, number: int, *, issue: bool) -> list[Comment]:
        """The comments of pull request or issue `number`, oldest first (at most 500)."""
        del issue  # one number space on GitHub
        with self._errors(repo):
            listed = self._repo(repo).get_issue(number).get_comments()
            return [_comment(item._rawData) for item in _pages(listed)]

    def reply(self, repo: str, number: int, body: str, *, issue: bool) -> None:
        """Comment on pull request or issue `number`."""
        del issue
        self._check_budget(repo)
        with self._errors(repo):
            self._repo(repo).get_issue(number).create_comment(body)

    def can_write(self, repo: str, comment: Comment) -> bool:
        """Whether the commenter has write access (admin, maintain or write); cached."""
        key = (repo, comment.author.lower())
        if key not in self._writers:
            with self._errors(repo):
                try:
                    level = self._repo(repo).get_collaborator_permission(comment.author)
                except GithubException as error:
                    if error.status != 404:  # 404: no such user, or not a collaborator
                        raise
                    level = "none"
            self._writers[key] = level in _WRITERS
        return self._writers[key]


def _pages(listed: PaginatedList[IssueComment]) -> Iterator[IssueComment]:
    for index in range(_MAX_COMMENT_PAGES):
        page = listed.get_page(index)
        yield from page
        if len(page) < _PER_PAGE:
            return


def _comment(data: Json) -> Comment:
    author_id = json_field(data, "user", "id")
    return Comment(
        id=json_int(data, "id"),
        author=json_str(data, "user", "login"),
        body=json_str(data, "body")[:10_000],
        author_id=author_id if isinstance(author_id, int) else None,
        bot=json_str(data, "user", "type") == "Bot" or bool(data.get("performed_via_github_app")),
    )
