"""GitLab project webhooks (`X-Gitlab-Event: ... Hook`) -> Trigger.

They share `/webhooks/gitlab` and its secret (`X-Gitlab-Token`) with the container registry's
notifications; the `X-Gitlab-Event` header tells them apart. Redeliveries repeat the
`Idempotency-Key` header, which the web layer remembers.

A push to the base branch re-plans that project; so does a note with an `/image-bot` line on
a bot merge request or the dashboard issue (the pass reads the command through the API,
checks the author's access level there, acts once and replies: docs/commands.md), and an
edit of the dashboard issue (a box ticked). Merge request events are answered and ignored:
a closed bot MR stays closed through its hidden marker.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from image_bot.errors import WebhookPayloadError
from image_bot.json_input import load_json
from image_bot.model import Trigger
from image_bot.publish.pr.marker import decode_pr_marker
from image_bot.publish.steering.memory import decode_memory

__all__ = ["parse_gitlab_event"]

_SOURCE = "gitlab"
_NULL_SHA = "0" * 40


def _text(payload: Mapping[str, object], *path: str) -> str:
    value: object = payload
    for key in path:
        value = value.get(key) if isinstance(value, Mapping) else None
    if not isinstance(value, str) or not value:
        raise WebhookPayloadError(_SOURCE, f"field {'.'.join(path)} is not a non-empty string")
    return value


def parse_gitlab_event(
    event: str,
    body: bytes,
    *,
    base_branch: Callable[[str], str | None] | None = None,
) -> Trigger:
    """What a (verified) GitLab project hook asks for; an empty Trigger when nothing."""
    if event not in ("Push Hook", "Note Hook", "Issue Hook"):
        return Trigger()
    try:
        payload = load_json(body)
    except ValueError as exc:
        raise WebhookPayloadError(_SOURCE, f"body is not JSON we read ({exc})"[:200]) from None
    if not isinstance(payload, dict):
        raise WebhookPayloadError(_SOURCE, "body is not a JSON object")
    if event == "Note Hook":
        return _note(payload)
    if event == "Issue Hook":
        return _issue(payload)
    project = _text(payload, "project", "path_with_namespace")
    ref = _text(payload, "ref")
    if payload.get("checkout_sha") is None or payload.get("after") == _NULL_SHA:
        return Trigger()  # the branch was deleted
    configured = base_branch(project) if base_branch is not None else None
    base = configured or _text(payload, "project", "default_branch")
    if ref != f"refs/heads/{base}":
        return Trigger()
    return Trigger(repositories=(project,), reason=f"push to {project} {base}")


def _field(payload: Mapping[str, object], *path: str) -> object:
    value: object = payload
    for key in path:
        value = value.get(key) if isinstance(value, Mapping) else None
    return value


def _note(payload: Mapping[str, object]) -> Trigger:
    """A note with an `/image-bot` line on a bot merge request or the dashboard."""
    note = _field(payload, "object_attributes", "note")
    if not isinstance(note, str) or "/image-bot" not in note.lower():
        return Trigger()
    if _field(payload, "user", "bot") is True:
        return Trigger()
    mr = _field(payload, "merge_request", "description")
    issue = _field(payload, "issue", "description")
    ours = decode_pr_marker(mr if isinstance(mr, str) else None) is not None or (
        decode_memory(issue if isinstance(issue, str) else None) is not None
    )
    if not ours:
        return Trigger()
    project = _text(payload, "project", "path_with_namespace")
    return Trigger(repositories=(project,), reason=f"/image-bot note in {project}")


def _issue(payload: Mapping[str, object]) -> Trigger:
    """An edit of the dashboard issue (a box ticked)."""
    if _field(payload, "object_attributes", "action") != "update":
        return Trigger()
    description = _field(payload, "object_attributes", "description")
    if decode_memory(description if isinstance(description, str) else None) is None:
        return Trigger()
    project = _text(payload, "project", "path_with_namespace")
    return Trigger(repositories=(project,), reason=f"dashboard of {project} edited")
