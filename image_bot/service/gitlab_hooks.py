"""GitLab project webhooks (`X-Gitlab-Event: ... Hook`) -> Trigger.

They share `/webhooks/gitlab` and its secret (`X-Gitlab-Token`) with the container registry's
notifications; the `X-Gitlab-Event` header tells them apart. Redeliveries repeat the
`Idempotency-Key` header, which the web layer remembers.

Only a push to the base branch asks for something (re-plan that project). Merge request and
note events are answered and ignored: a closed bot MR stays closed through its hidden marker,
and comment commands would need an API call to check the commenter's role, which a webhook
receiver does not make.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from image_bot.errors import WebhookPayloadError
from image_bot.json_input import load_json
from image_bot.model import Trigger

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
    if event != "Push Hook":
        return Trigger()
    try:
        payload = load_json(body)
    except ValueError as exc:
        raise WebhookPayloadError(_SOURCE, f"body is not JSON we read ({exc})"[:200]) from None
    if not isinstance(payload, dict):
        raise WebhookPayloadError(_SOURCE, "body is not a JSON object")
    project = _text(payload, "project", "path_with_namespace")
    ref = _text(payload, "ref")
    if payload.get("checkout_sha") is None or payload.get("after") == _NULL_SHA:
        return Trigger()  # the branch was deleted
    configured = base_branch(project) if base_branch is not None else None
    base = configured or _text(payload, "project", "default_branch")
    if ref != f"refs/heads/{base}":
        return Trigger()
    return Trigger(repositories=(project,), reason=f"push to {project} {base}")
