"""From a forge's pull-request listing (JSON) to the bot's PullRequests: field access, selection.

Shared by the GitHub and GitLab adapters. Pure code: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from image_bot.model import PullRequest, PullRequestState

__all__ = [
    "UnexpectedResponse",
    "json_count",
    "json_field",
    "json_int",
    "json_names",
    "json_str",
    "json_time",
    "missing_names",
    "select_bot_pull_requests",
]

Json = Mapping[str, object]


class UnexpectedResponse(ValueError):
    """The forge's answer lacks something every answer has (adapters turn it into ForgeError)."""


def json_field(data: Json, *path: str) -> object:
    """`data[path[0]][path[1]]...`, or None where a step is missing or not an object."""
    node: object = data
    for key in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node


def json_str(data: Json, *path: str) -> str:
    """The string at `path`, or "" when it is absent or not a string."""
    value = json_field(data, *path)
    return value if isinstance(value, str) else ""


def json_int(data: Json, *path: str) -> int:
    """The integer at `path`; a missing number means the forge answered nonsense."""
    value = json_field(data, *path)
    if isinstance(value, bool) or not isinstance(value, int):
        raise UnexpectedResponse(f"expected an integer at {'.'.join(path)}, got {value!r}")
    return value


def json_count(value: object) -> int:
    """A count from a forge's answer (comments, notes, an access level); 0 when not one."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def json_names(data: Json, key: str, name_field: str, *, prefix: str = "") -> tuple[str, ...]:
    """`name_field` of each object in the list at `key` (labels, users), `prefix` prepended.

    A bare string in the list is taken as the name itself (GitLab lists labels that way).
    """
    items = data.get(key)
    if not isinstance(items, list):
        return ()
    names: list[str] = []
    for item in items:
        name = item.get(name_field) if isinstance(item, Mapping) else item
        if isinstance(name, str) and name:
            names.append(prefix + name)
    return tuple(names)


def json_time(data: Json, *path: str) -> datetime | None:
    """The ISO 8601 timestamp at `path` (timezone-aware), or None."""
    text = json_str(data, *path)
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def missing_names(wanted: Sequence[str], present: Sequence[str]) -> tuple[str, ...]:
    """The names in `wanted` not in `present` (case-insensitively, as forges compare logins)."""
    have = {name.lower() for name in present}
    return tuple(name for name in wanted if name.lower() not in have)


def select_bot_pull_requests(newest_first: Iterable[PullRequest]) -> list[PullRequest]:
    """Every open pull request, plus the most recently updated closed/merged one per branch.

    `newest_first` is ordered by last update, newest first (how the listings are sorted), so
    the first closed PR seen for a branch is the one a human closed last. Duplicates (the
    same number from two listings) are dropped.
    """
    seen: set[int] = set()
    closed_branches: set[str] = set()
    selected: list[PullRequest] = []
    for pr in newest_first:
        if pr.number in seen:
            continue
        seen.add(pr.number)
        if pr.state is not PullRequestState.OPEN:
            if pr.branch in closed_branches:
                continue
            closed_branches.add(pr.branch)
        selected.append(pr)
    return selected
