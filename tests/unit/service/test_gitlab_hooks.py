"""GitLab project hooks: a push to the base branch, a command note and a dashboard edit re-plan
the project; nothing else does."""

from __future__ import annotations

import json

import pytest

from image_bot.errors import WebhookPayloadError
from image_bot.model import Trigger
from image_bot.publish.pr.marker import PrMarker, encode_pr_marker
from image_bot.publish.steering.memory import Memory, encode_memory
from image_bot.service.gitlab_hooks import parse_gitlab_event

NULL = "0" * 40


def push(ref: str, *, after: str = "da1560886d4f094c3e6c9ef40349f7d38b5d27d7") -> bytes:
    # shape of GitLab's "Push events" (webhook_events.md), abridged
    return json.dumps(
        {
            "object_kind": "push",
            "event_name": "push",
            "before": "95790bf891e76fee5e1747ab589903a6a1f80f22",
            "after": after,
            "ref": ref,
            "checkout_sha": None if after == NULL else after,
            "user_username": "jsmith",
            "project_id": 15,
            "project": {
                "id": 15,
                "name": "gitops",
                "path_with_namespace": "acme/platform/gitops",
                "default_branch": "main",
                "web_url": "https://gitlab.example.com/acme/platform/gitops",
            },
            "commits": [],
            "total_commits_count": 1,
        }
    ).encode()


def test_push_to_default_branch_replans_the_project() -> None:
    assert parse_gitlab_event("Push Hook", push("refs/heads/main")) == Trigger(
        repositories=("acme/platform/gitops",), reason="push to acme/platform/gitops main"
    )


@pytest.mark.parametrize(
    "body",
    [
        push("refs/heads/image-bot/nginx"),
        push("refs/heads/main", after=NULL),  # the branch was deleted
    ],
)
def test_other_pushes_ask_for_nothing(body: bytes) -> None:
    assert parse_gitlab_event("Push Hook", body).is_empty


def test_configured_base_branch_wins() -> None:
    bases = {"acme/platform/gitops": "production"}.get
    assert parse_gitlab_event("Push Hook", push("refs/heads/main"), base_branch=bases).is_empty
    wanted = parse_gitlab_event("Push Hook", push("refs/heads/production"), base_branch=bases)
    assert wanted.repositories == ("acme/platform/gitops",)


@pytest.mark.parametrize("event", ["Merge Request Hook", "Pipeline Hook", "Tag Push Hook"])
def test_other_events_ask_for_nothing_without_parsing(event: str) -> None:
    assert parse_gitlab_event(event, b"not even json").is_empty


PROJECT = {"id": 15, "path_with_namespace": "acme/gitops", "default_branch": "main"}
BOT_MR = encode_pr_marker(PrMarker("nginx", "fp", ("docker.io/library/nginx:1.27.1",)))


def note(
    text: str, *, mr: str | None = BOT_MR, issue: str | None = None, bot: bool = False
) -> bytes:
    # shape of GitLab's "Comment events" (webhook_events.md, Note Hook), abridged
    payload: dict[str, object] = {
        "object_kind": "note",
        "user": {"id": 1, "username": "root", "bot": bot},
        "project": PROJECT,
        "object_attributes": {"id": 1244, "note": text, "noteable_type": "MergeRequest"},
    }
    if mr is not None:
        payload["merge_request"] = {"iid": 1, "description": mr}
    if issue is not None:
        payload["issue"] = {"iid": 3, "description": issue}
    return json.dumps(payload).encode()


def test_a_command_note_on_a_bot_merge_request_or_the_dashboard_replans_the_project() -> None:
    expected = Trigger(repositories=("acme/gitops",), reason="/image-bot note in acme/gitops")
    assert parse_gitlab_event("Note Hook", note("/image-bot rebase")) == expected
    dashboard = note("/image-bot hold nginx", mr=None, issue=encode_memory(Memory()))
    assert parse_gitlab_event("Note Hook", dashboard) == expected


@pytest.mark.parametrize(
    "body",
    [
        note("LGTM"),
        note("/image-bot rebase", mr="a human MR"),
        note("/image-bot rebase", mr=None, issue="a plain issue"),
        note("/image-bot rebase", bot=True),
    ],
)
def test_other_notes_ask_for_nothing(body: bytes) -> None:
    assert parse_gitlab_event("Note Hook", body).is_empty


def test_an_edited_dashboard_replans_the_project() -> None:
    def issue_hook(action: str, description: str) -> bytes:
        attributes = {"iid": 3, "action": action, "description": description}
        return json.dumps({"project": PROJECT, "object_attributes": attributes}).encode()

    dashboard = encode_memory(Memory())
    assert parse_gitlab_event("Issue Hook", issue_hook("update", dashboard)).repositories == (
        "acme/gitops",
    )
    assert parse_gitlab_event("Issue Hook", issue_hook("open", dashboard)).is_empty
    assert parse_gitlab_event("Issue Hook", issue_hook("update", "plain")).is_empty


@pytest.mark.parametrize("body", [b"nope", b"[]", b'{"ref": "refs/heads/main"}'])
def test_malformed_push_is_an_error(body: bytes) -> None:
    with pytest.raises(WebhookPayloadError):
        parse_gitlab_event("Push Hook", body)
