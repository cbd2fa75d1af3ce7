"""One issue per repository whose settings file is invalid: opened once, kept up to date,
closed with a comment once the file is fixed. Found again by a hidden marker in its body."""

from __future__ import annotations

from github.Issue import Issue
from github.Repository import Repository

from image_bot.errors import ConfigError

__all__ = ["MARKER", "ConfigIssues", "issue_body"]

MARKER = "<!-- image-bot:settings-error -->"


def issue_body(path: str, error: ConfigError) -> str:
    """What the issue says: the file, the line and field, and how to fix it."""
    return (
        f"image-bot cannot use `{path}` and skips this repository until it is fixed:\n\n"
        f"```\n{error.message}\n```\n\n"
        "Fix the file on the default branch; this issue closes itself on the next pass.\n\n"
        f"{MARKER}\n"
    )


class ConfigIssues:
    """Reports settings errors as issues; remembers what it last said to save API calls."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.title = f"image-bot: {path} is invalid"
        self._said: dict[str, str | None] = {}  # repository -> body of its open issue, or None

    def report(self, repo: Repository, error: ConfigError | None) -> None:
        """Open, update or close `repo`'s issue so it matches `error` (None: the file is fine)."""
        body = issue_body(self.path, error) if error is not None else None
        name = repo.full_name
        if name in self._said and self._said[name] == body:
            return  # already says that (or there is none and nothing to say)
        issue = self._open_issue(repo)
        if body is None:
            if issue is not None:
                issue.create_comment(f"`{self.path}` is valid again: closing.")
                issue.edit(state="closed")
        elif issue is None:
            repo.create_issue(title=self.title, body=body)
        elif issue.body != body:
            issue.edit(body=body)
        self._said[name] = body

    @staticmethod
    def _open_issue(repo: Repository) -> Issue | None:
        for issue in repo.get_issues(state="open"):
            if issue.pull_request is None and MARKER in (issue.body or ""):
                return issue
        return None
