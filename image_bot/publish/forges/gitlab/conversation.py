"""GitLab's side of commands and the dashboard: the dashboard issue, note counts, notes,
replies and the commenter's access level (a mixin of GitLabForge, sharing its client).

Reads per pass: the dashboard (`GET /issues?labels=L&state=opened`, one page); merge
requests' note counts come with the listing (`user_notes_count`), so they cost nothing; a
merge request's notes are read only when its count moved. Access: one
`GET /members/all/:user_id` per commenter per forge instance (a pass); Developer (30) and up
may command.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

from gitlab.exceptions import GitlabGetError

from image_bot.model import Comment, Issue
from image_bot.publish.listing import Json, json_count, json_field, json_int, json_str
from image_bot.publish.steering.memory import decode_memory

if TYPE_CHECKING:
    from gitlab.v4.objects import Project

__all__ = ["GitLabConversation"]

_DEVELOPER = 30
_MAX_NOTES = 500


def _issue(data: Json) -> Issue:
    return Issue(
        number=json_int(data, "iid"),
        url=json_str(data, "web_url"),
        title=json_str(data, "title"),
        body=json_str(data, "description"),
        comments=json_count(data.get("user_notes_count")),
    )


class GitLabConversation:
    """Issues, notes and access levels for GitLabForge (which provides `_project`,
    `_errors`, `_check_budget` and `_known`)."""

    _known: dict[tuple[str, int], Json]
    _writers: dict[tuple[str, int], bool]

    if TYPE_CHECKING:

        def _project(self, repo: str) -> Project: ...
        def _errors(self, repo: str) -> AbstractContextManager[None]: ...
        def _check_budget(self, repo: str) -> None: ...

    def dashboard(self, repo: str, label: str) -> Issue | None:
        """The bot's open dashboard: an opened issue labelled `label` with the memory marker."""
        with self._errors(repo):
            listed = self._project(repo).issues.list(
                state="opened", labels=[label], get_all=False, obey_rate_limit=False, max_retries=2
            )
            found: list[Json] = [item.attributes for item in listed]
        for data in found:
            if decode_memory(json_str(data, "description")) is not None:
                return _issue(data)
        return None

    def open_issue(self, repo: str, title: str, body: str, labels: tuple[str, ...]) -> Issue:
        """Open an issue (the dashboard)."""
        self._check_budget(repo)
        with self._errors(repo):
            fields = {"title": title, "description": body, "labels": ",".join(labels)}
            created = self._project(repo).issues.create(fields, obey_rate_limit=False)
            return _issue(created.attributes)

    def edit_issue(self, repo: str, issue: Issue, title: str, body: str) -> Issue:
        """Rewrite an issue's title and description."""
        self._check_budget(repo)
        with self._errors(repo):
            self._project(repo).issues.update(
                issue.number, {"title": title, "description": body}, obey_rate_limit=False
            )
        return Issue(issue.number, issue.url, title, body, issue.comments)

    def comment_counts(self, repo: str) -> Mapping[int, int]:
        """Notes per merge request, from the listing already made (no request)."""
        return {
            number: json_count(data.get("user_notes_count"))
            for (known_repo, number), data in self._known.items()
            if known_repo == repo
        }

    def comments(self, repo: str, number: int, *, issue: bool) -> list[Comment]:
        """The user notes of merge request or issue `number`, oldest first (at most 500)."""
        with self._errors(repo):
            project = self._project(repo)
            owner = project.issues if issue else project.mergerequests
            notes = owner.get(number, lazy=True).notes.list(
                iterator=True, sort="asc", order_by="created_at", obey_rate_limit=False
            )
            found = []
            for index, note in enumerate(notes):
                if index >= _MAX_NOTES:
                    break
                if note.attributes.get("system") is not True:
                    found.append(_comment(note.attributes))
        return found

    def reply(self, repo: str, number: int, body: str, *, issue: bool) -> None:
        """Add a note to merge request or issue `number`."""
        self._check_budget(repo)
        with self._errors(repo):
            project = self._project(repo)
            owner = project.issues if issue else project.mergerequests
            owner.get(number, lazy=True).notes.create({"body": body}, obey_rate_limit=False)

    def can_write(self, repo: str, comment: Comment) -> bool:
        """Whether the commenter is a Developer or more (inherited memberships count); cached."""
        if comment.author_id is None:
            return False
        key = (repo, comment.author_id)
        if key not in self._writers:
            with self._errors(repo):
                try:
                    member = self._project(repo).members_all.get(
                        comment.author_id, obey_rate_limit=False
                    )
                    level = json_count(member.attributes.get("access_level"))
                except GitlabGetError as error:
                    if error.response_code != 404:
                        raise
                    level = 0
            self._writers[key] = level >= _DEVELOPER
        return self._writers[key]


def _comment(data: Json) -> Comment:
    author_id = json_field(data, "author", "id")
    return Comment(
        id=json_int(data, "id"),
        author=json_str(data, "author", "username"),
        body=json_str(data, "body")[:10_000],
        author_id=author_id if isinstance(author_id, int) else None,
        bot=json_field(data, "author", "bot") is True,
    )
