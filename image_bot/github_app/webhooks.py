"""Parse GitHub App webhook deliveries into what the service should do; remember deliveries.

The web layer verifies `X-Hub-Signature-256` (`webhooks.verify_hmac_sha256`) first, then asks
`DeliveryLog` whether `X-GitHub-Delivery` was already handled, then calls `parse_github_event`:

- `package` / `registry_package` published or updated (a container tag on GHCR) -> `Trigger`
  for that image;
- `push` to the base branch of a repository -> `Trigger` re-planning that repository;
- `pull_request` closed without merging, on a bot PR -> `PullRequestDeclined` (logged: the
  closed PR's marker already keeps that proposal from coming back);
- `installation`, `installation_repositories` -> `InstallationChanged`;
- `issue_comment` with an `/image-bot` line on a bot PR or the dashboard, `issues` edited on
  the dashboard (a box ticked) -> `Trigger` re-planning that repository: the pass reads the
  command from the forge, checks the commenter's permission there, acts once and replies
  (docs/commands.md), so the webhook, a one-shot job and the App all go one way;
- anything else -> `Ignored` with the reason (the delivery is still answered 200).

A bot PR is one whose body carries the hidden marker (`publish.pr.marker`), the dashboard
one with the memory marker (`publish.steering.memory`), so no API call is needed to tell ours.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from image_bot.errors import ImageBotError, WebhookPayloadError
from image_bot.json_input import load_json
from image_bot.model import Trigger
from image_bot.publish.pr.marker import decode_pr_marker
from image_bot.publish.steering.memory import decode_memory
from image_bot.reference import parse_name, split_reference

__all__ = [
    "DeliveryLog",
    "GitHubEvent",
    "Ignored",
    "InstallationChanged",
    "PullRequestDeclined",
    "parse_github_event",
]

_SOURCE = "github"
_CONTAINER_TYPES = frozenset({"container", "docker"})


@dataclass(frozen=True, slots=True)
class PullRequestDeclined:
    """A bot PR closed without merging: its proposals should be remembered as ignored."""

    repository: str
    number: int
    branch: str
    proposals: tuple[str, ...]
    installation_id: int | None = None


@dataclass(frozen=True, slots=True)
class InstallationChanged:
    """The App was installed, removed, or its repository selection changed."""

    installation_id: int
    action: str
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Ignored:
    """A valid delivery that asks nothing of the bot, and why."""

    reason: str


GitHubEvent = Trigger | PullRequestDeclined | InstallationChanged | Ignored


class DeliveryLog:
    """The last `capacity` `X-GitHub-Delivery` ids handled; redeliveries repeat the id.

    Bounded: the oldest id is forgotten first, so memory stays flat however long it runs.
    """

    def __init__(self, capacity: int = 4096) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self._capacity = capacity
        self._ids: OrderedDict[str, None] = OrderedDict()

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, delivery_id: object) -> bool:
        return delivery_id in self._ids

    def record(self, delivery_id: str) -> None:
        """Remember `delivery_id` as handled (forgetting the oldest beyond capacity)."""
        self._ids[delivery_id] = None
        self._ids.move_to_end(delivery_id)
        while len(self._ids) > self._capacity:
            self._ids.popitem(last=False)


# --- payload access -----------------------------------------------------------------------------


def _get(payload: object, *path: str) -> object:
    value = payload
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _str(payload: object, *path: str) -> str:
    value = _get(payload, *path)
    if not isinstance(value, str) or not value:
        raise WebhookPayloadError(_SOURCE, f"field {'.'.join(path)} is not a non-empty string")
    return value


def _int(payload: object, *path: str) -> int:
    value = _get(payload, *path)
    if not isinstance(value, int) or isinstance(value, bool):
        raise WebhookPayloadError(_SOURCE, f"field {'.'.join(path)} is not an integer")
    return value


def _installation_id(payload: object) -> int | None:
    value = _get(payload, "installation", "id")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _full_names(payload: object, key: str) -> tuple[str, ...]:
    items = _get(payload, key)
    if not isinstance(items, list):
        return ()
    return tuple(
        item["full_name"]
        for item in items
        if isinstance(item, Mapping) and isinstance(item.get("full_name"), str)
    )


# --- one function per event ---------------------------------------------------------------------


def _package(payload: Mapping[str, object], key: str) -> GitHubEvent:
    action = _get(payload, "action")
    if action not in ("published", "updated"):
        return Ignored(f"{key} {action}")
    package = _get(payload, key)
    kind = str(_get(package, "package_type") or _get(package, "ecosystem") or "").lower()
    if kind not in _CONTAINER_TYPES:
        return Ignored(f"{key} of type {kind or 'unknown'} is not a container image")
    tag = _get(package, "package_version", "container_metadata", "tag", "name")
    if not isinstance(tag, str) or not tag:
        return Ignored("untagged container version (a platform manifest)")
    url = _get(package, "package_version", "package_url")
    if isinstance(url, str) and url:
        name_text = split_reference(url.strip())[0]
    else:
        owner = _get(package, "namespace") or _get(package, "owner", "login")
        name_text = f"ghcr.io/{owner}/{_str(package, 'name')}"
    try:
        image = parse_name(name_text.lower())
    except ImageBotError as exc:
        raise WebhookPayloadError(_SOURCE, exc.message) from None
    return Trigger(images=(image,), reason=f"{key} {action} {image}:{tag}")


def _push(
    payload: Mapping[str, object], base_branch: Callable[[str], str | None] | None
) -> GitHubEvent:
    repository = _str(payload, "repository", "full_name")
    ref = _str(payload, "ref")
    if _get(payload, "deleted") is True:
        return Ignored(f"{ref} deleted")
    configured = base_branch(repository) if base_branch is not None else None
    base = configured or _get(payload, "repository", "default_branch")
    if not isinstance(base, str) or ref != f"refs/heads/{base}":
        return Ignored(f"push to {ref} is not to the base branch")
    return Trigger(repositories=(repository,), reason=f"push to {repository} {base}")


def _pull_request(payload: Mapping[str, object]) -> GitHubEvent:
    if _get(payload, "action") != "closed":
        return Ignored(f"pull_request {_get(payload, 'action')}")
    body = _get(payload, "pull_request", "body")
    marker = decode_pr_marker(body if isinstance(body, str) else None)
    if marker is None:
        return Ignored("not a bot pull request")
    if _get(payload, "pull_request", "merged") is True:
        return Ignored("bot pull request merged")
    return PullRequestDeclined(
        repository=_str(payload, "repository", "full_name"),
        number=_int(payload, "number"),
        branch=_str(payload, "pull_request", "head", "ref"),
        proposals=marker.proposals,
        installation_id=_installation_id(payload),
    )


def _ours(issue_body: object) -> str | None:
    """`pull request` / `dashboard` when the issue body carries the bot's marker, else None."""
    text = issue_body if isinstance(issue_body, str) else None
    if decode_pr_marker(text) is not None:
        return "pull request"
    if decode_memory(text) is not None:
        return "dashboard"
    return None


def _issue_comment(payload: Mapping[str, object]) -> GitHubEvent:
    if _get(payload, "action") != "created":
        return Ignored(f"issue_comment {_get(payload, 'action')}")
    text = _get(payload, "comment", "body")
    if not isinstance(text, str) or "/image-bot" not in text.lower():
        return Ignored("no /image-bot command")
    where = _ours(_get(payload, "issue", "body"))
    if where is None:
        return Ignored("command on an issue or pull request the bot did not open")
    if _get(payload, "comment", "user", "type") == "Bot":
        return Ignored("commands from bots are not taken")
    repository = _str(payload, "repository", "full_name")
    number = _int(payload, "issue", "number")
    return Trigger(repositories=(repository,), reason=f"/image-bot on {where} #{number}")


def _issues(payload: Mapping[str, object]) -> GitHubEvent:
    if _get(payload, "action") != "edited":
        return Ignored(f"issues {_get(payload, 'action')}")
    if _ours(_get(payload, "issue", "body")) != "dashboard":
        return Ignored("not the dashboard")
    repository = _str(payload, "repository", "full_name")
    return Trigger(repositories=(repository,), reason="dashboard edited")


def _installation(payload: Mapping[str, object], event: str) -> GitHubEvent:
    installation_id = _int(payload, "installation", "id")
    action = _str(payload, "action")
    if event == "installation_repositories":
        added = _full_names(payload, "repositories_added")
        removed = _full_names(payload, "repositories_removed")
    elif action in ("deleted", "suspend"):
        added, removed = (), _full_names(payload, "repositories")
    else:
        added, removed = _full_names(payload, "repositories"), ()
    return InstallationChanged(installation_id, action, added=added, removed=removed)


def parse_github_event(
    event: str | None,
    body: bytes,
    *,
    base_branch: Callable[[str], str | None] | None = None,
) -> GitHubEvent:
    """What a (verified) delivery of `X-GitHub-Event: event` asks of the bot.

    `base_branch(owner/repo)` names the branch the bot updates in that repository (None or
    no callable: the repository's default branch from the payload). Raises
    WebhookPayloadError when the body is not JSON or lacks a field the event needs.
    """
    try:
        payload = load_json(body)
    except ValueError as exc:
        raise WebhookPayloadError(_SOURCE, f"body is not JSON we read ({exc})"[:200]) from None
    if not isinstance(payload, dict):
        raise WebhookPayloadError(_SOURCE, "body is not a JSON object")
    match event:
        case "package" | "registry_package":
            return _package(payload, event)
        case "push":
            return _push(payload, base_branch)
        case "pull_request":
            return _pull_request(payload)
        case "issue_comment":
            return _issue_comment(payload)
        case "issues":
            return _issues(payload)
        case "installation" | "installation_repositories":
            return _installation(payload, event)
        case "ping":
            return Ignored("ping")
        case _:
            return Ignored(f"event {event} is not used")
