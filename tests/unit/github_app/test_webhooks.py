"""GitHub App deliveries: which event asks for what, who may command the bot, redeliveries."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from image_bot.errors import WebhookPayloadError
from image_bot.github_app.webhooks import (
    DeliveryLog,
    Ignored,
    InstallationChanged,
    PullRequestDeclined,
    parse_github_event,
)
from image_bot.model import ImageName, Trigger
from image_bot.publish.pr.marker import PrMarker, encode_pr_marker
from image_bot.publish.steering.memory import Memory, encode_memory

REPO = {"id": 1, "full_name": "acme/gitops", "name": "gitops", "default_branch": "main"}
BOT_BODY = "Update nginx to 1.27.1\n\n" + encode_pr_marker(
    PrMarker(group="nginx", fingerprint="fp1", proposals=("docker.io/library/nginx:1.27.1",))
)


def body(payload: object) -> bytes:
    return json.dumps(payload).encode()


# --- package / registry_package -------------------------------------------------------------------


def package_payload(key: str, *, package_type: str = "CONTAINER", tag: str = "1.2.3") -> object:
    return {
        "action": "published",
        key: {
            "id": 42,
            "name": "app",
            "namespace": "acme",
            "ecosystem": package_type,
            "package_type": package_type,
            "owner": {"login": "acme", "id": 7, "type": "Organization"},
            "package_version": {
                "id": 99,
                "version": "sha256:" + "a" * 64,
                "name": "sha256:" + "a" * 64,
                "package_url": f"ghcr.io/acme/app:{tag}",
                "container_metadata": {"tag": {"name": tag, "digest": "sha256:" + "a" * 64}},
            },
            "registry": {"name": "GitHub CR", "url": "https://ghcr.io/acme", "vendor": "GitHub"},
        },
        "repository": REPO,
        "sender": {"login": "octocat", "type": "User"},
        "installation": {"id": 555},
    }


@pytest.mark.parametrize("key", ["package", "registry_package"])
def test_container_published_triggers_that_image(key: str) -> None:
    event = parse_github_event(key, body(package_payload(key)))
    assert isinstance(event, Trigger)
    assert event.images == (ImageName("ghcr.io", "acme/app"),)
    assert event.repositories == ()
    assert "1.2.3" in event.reason


def test_container_without_package_url_is_named_from_owner_and_name() -> None:
    payload = package_payload("package")
    payload["package"]["package_version"].pop("package_url")  # type: ignore[index]
    payload["package"]["namespace"] = "Acme"  # type: ignore[index]
    event = parse_github_event("package", body(payload))
    assert isinstance(event, Trigger)
    assert event.images == (ImageName("ghcr.io", "acme/app"),)  # GHCR names are lower case


def test_npm_package_and_untagged_container_are_ignored() -> None:
    npm = parse_github_event("package", body(package_payload("package", package_type="npm")))
    untagged = parse_github_event("package", body(package_payload("package", tag="")))
    assert isinstance(npm, Ignored)
    assert "not a container" in npm.reason
    assert isinstance(untagged, Ignored)


# --- push -----------------------------------------------------------------------------------------


def push_payload(ref: str, *, deleted: bool = False) -> object:
    return {
        "ref": ref,
        "before": "0" * 40,
        "after": "1" * 40,
        "created": False,
        "deleted": deleted,
        "forced": False,
        "base_ref": None,
        "compare": "https://github.com/acme/gitops/compare/000...111",
        "commits": [],
        "head_commit": None,
        "repository": REPO,
        "pusher": {"name": "octocat"},
    }


def test_push_to_default_branch_replans_the_repository() -> None:
    event = parse_github_event("push", body(push_payload("refs/heads/main")))
    assert event == Trigger(repositories=("acme/gitops",), reason="push to acme/gitops main")


@pytest.mark.parametrize(
    ("ref", "deleted"),
    [("refs/heads/image-bot/nginx", False), ("refs/tags/v1.0.0", False), ("refs/heads/main", True)],
)
def test_other_pushes_are_ignored(ref: str, deleted: bool) -> None:
    event = parse_github_event("push", body(push_payload(ref, deleted=deleted)))
    assert isinstance(event, Ignored)


def test_push_uses_configured_base_branch() -> None:
    bases = {"acme/gitops": "production"}
    on_main = parse_github_event(
        "push", body(push_payload("refs/heads/main")), base_branch=bases.get
    )
    on_prod = parse_github_event(
        "push", body(push_payload("refs/heads/production")), base_branch=bases.get
    )
    assert isinstance(on_main, Ignored)
    assert on_prod == Trigger(
        repositories=("acme/gitops",), reason="push to acme/gitops production"
    )


# --- pull_request ---------------------------------------------------------------------------------


def pull_request_payload(action: str, *, merged: bool, body_text: str | None) -> object:
    return {
        "action": action,
        "number": 12,
        "pull_request": {
            "number": 12,
            "state": "closed",
            "merged": merged,
            "body": body_text,
            "head": {"ref": "image-bot/nginx", "sha": "1" * 40},
            "base": {"ref": "main", "sha": "0" * 40},
            "user": {"login": "image-bot[bot]", "type": "Bot"},
        },
        "repository": REPO,
        "sender": {"login": "octocat"},
        "installation": {"id": 555},
    }


def test_bot_pull_request_closed_unmerged_is_declined() -> None:
    payload = pull_request_payload("closed", merged=False, body_text=BOT_BODY)
    event = parse_github_event("pull_request", body(payload))
    assert event == PullRequestDeclined(
        repository="acme/gitops",
        number=12,
        branch="image-bot/nginx",
        proposals=("docker.io/library/nginx:1.27.1",),
        installation_id=555,
    )


@pytest.mark.parametrize(
    ("action", "merged", "text"),
    [
        ("closed", True, BOT_BODY),  # merged: nothing to ignore
        ("closed", False, "a human's PR"),  # not ours
        ("closed", False, None),
        ("opened", False, BOT_BODY),
    ],
)
def test_other_pull_request_events_are_ignored(action: str, merged: bool, text: str | None) -> None:
    payload = pull_request_payload(action, merged=merged, body_text=text)
    assert isinstance(parse_github_event("pull_request", body(payload)), Ignored)


# --- issue_comment commands -----------------------------------------------------------------------


def comment_payload(
    text: str,
    *,
    association: str = "MEMBER",
    user_type: str = "User",
    issue_body: str | None = BOT_BODY,
    on_pull_request: bool = True,
    action: str = "created",
) -> object:
    issue: dict[str, object] = {"number": 12, "body": issue_body, "state": "open"}
    if on_pull_request:
        issue["pull_request"] = {"url": "https://api.github.com/repos/acme/gitops/pulls/12"}
    return {
        "action": action,
        "issue": issue,
        "comment": {
            "id": 1,
            "body": text,
            "author_association": association,
            "user": {"login": "octocat", "type": user_type},
        },
        "repository": REPO,
        "sender": {"login": "octocat"},
        "installation": {"id": 555},
    }


@pytest.mark.parametrize(
    "text",
    [
        "/image-bot rebase",
        "Thanks!\n/image-bot   ignore   minor\n",
        "/Image-Bot ignore major",
        "/image-bot explain nginx\r\nplease",
        "/image-bot frobnicate",  # the pass replies that it does not know the command
    ],
)
@pytest.mark.parametrize("association", ["MEMBER", "NONE"])  # the pass asks the permission API
def test_a_command_on_a_bot_pull_request_replans_its_repository(
    text: str, association: str
) -> None:
    event = parse_github_event(
        "issue_comment", body(comment_payload(text, association=association))
    )
    assert event == Trigger(repositories=("acme/gitops",), reason="/image-bot on pull request #12")


def test_a_command_on_the_dashboard_replans_its_repository() -> None:
    dashboard = encode_memory(Memory())
    payload = comment_payload("/image-bot hold nginx", issue_body=dashboard, on_pull_request=False)
    event = parse_github_event("issue_comment", body(payload))
    assert event == Trigger(repositories=("acme/gitops",), reason="/image-bot on dashboard #12")


@pytest.mark.parametrize(
    ("kwargs", "why"),
    [
        ({"user_type": "Bot"}, "bots"),
        ({"issue_body": "human PR"}, "did not open"),
        ({"issue_body": "a plain issue", "on_pull_request": False}, "did not open"),
        ({"action": "edited"}, "edited"),
    ],
)
def test_misplaced_commands_are_ignored(kwargs: dict[str, object], why: str) -> None:
    event = parse_github_event(
        "issue_comment", body(comment_payload("/image-bot rebase", **kwargs))
    )  # type: ignore[arg-type]
    assert isinstance(event, Ignored)
    assert why in event.reason


@pytest.mark.parametrize("text", ["LGTM", "see image-bot docs", ""])
def test_comments_without_a_command_are_ignored(text: str) -> None:
    assert isinstance(parse_github_event("issue_comment", body(comment_payload(text))), Ignored)


@pytest.mark.parametrize(
    ("action", "issue_body", "replans"),
    [
        ("edited", encode_memory(Memory()), True),  # a box ticked on the dashboard
        ("edited", "a plain issue", False),
        ("opened", encode_memory(Memory()), False),
    ],
)
def test_an_edited_dashboard_replans_its_repository(
    action: str, issue_body: str, replans: bool
) -> None:
    payload = {
        "action": action,
        "issue": {"number": 3, "body": issue_body},
        "repository": REPO,
        "sender": {"login": "octocat"},
    }
    event = parse_github_event("issues", body(payload))
    assert (event == Trigger(repositories=("acme/gitops",), reason="dashboard edited")) is replans
    assert replans or isinstance(event, Ignored)


# --- installation ---------------------------------------------------------------------------------


def test_installation_created_adds_its_repositories() -> None:
    payload = {
        "action": "created",
        "installation": {
            "id": 555,
            "account": {"login": "acme"},
            "repository_selection": "selected",
        },
        "repositories": [
            {"id": 1, "name": "gitops", "full_name": "acme/gitops", "private": True},
            {"id": 2, "name": "infra", "full_name": "acme/infra", "private": True},
        ],
        "sender": {"login": "octocat"},
    }
    event = parse_github_event("installation", body(payload))
    assert event == InstallationChanged(555, "created", added=("acme/gitops", "acme/infra"))


def test_installation_deleted_removes_its_repositories() -> None:
    payload = {
        "action": "deleted",
        "installation": {"id": 555},
        "repositories": [{"full_name": "acme/gitops"}],
        "sender": {"login": "octocat"},
    }
    event = parse_github_event("installation", body(payload))
    assert event == InstallationChanged(555, "deleted", removed=("acme/gitops",))


def test_installation_repositories_added_and_removed() -> None:
    payload = {
        "action": "added",
        "installation": {"id": 555},
        "repository_selection": "selected",
        "repositories_added": [{"full_name": "acme/new"}],
        "repositories_removed": [{"full_name": "acme/old"}],
        "requester": None,
        "sender": {"login": "octocat"},
    }
    event = parse_github_event("installation_repositories", body(payload))
    assert event == InstallationChanged(555, "added", added=("acme/new",), removed=("acme/old",))


# --- everything else ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["ping", "star", None])
def test_unused_events_are_ignored(name: str | None) -> None:
    assert isinstance(
        parse_github_event(name, body({"zen": "Keep it logically awesome."})), Ignored
    )


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("push", b"not json"),
        ("push", b"[]"),
        ("push", body({"ref": "refs/heads/main"})),  # no repository
        ("installation", body({"action": "created"})),  # no installation id
        ("pull_request", body({"action": "closed", "pull_request": {"body": BOT_BODY}})),
    ],
)
def test_malformed_deliveries_raise(name: str, raw: bytes) -> None:
    with pytest.raises(WebhookPayloadError):
        parse_github_event(name, raw)


# --- delivery log ---------------------------------------------------------------------------------


def test_delivery_log_remembers_and_stays_bounded() -> None:
    log = DeliveryLog(capacity=3)
    for delivery in ("a", "b", "c"):
        log.record(delivery)
    assert "a" in log
    log.record("a")  # seen again: becomes the newest
    log.record("d")  # evicts the oldest, which is now "b"
    assert "b" not in log
    assert all(delivery in log for delivery in ("a", "c", "d"))
    for number in range(10_000):
        log.record(f"id-{number}")
    assert len(log) == 3


def test_delivery_log_needs_room() -> None:
    with pytest.raises(ValueError, match="capacity"):
        DeliveryLog(capacity=0)


# --- the fields we read exist in GitHub's published schemas ---------------------------------------

READ_FIELDS = {
    "webhook-push": [("ref",), ("deleted",), ("repository", "full_name")],
    "webhook-pull-request-closed": [
        ("number",),
        ("pull_request", "merged"),
        ("pull_request", "body"),
        ("pull_request", "head", "ref"),
        ("installation", "id"),
    ],
    "webhook-registry-package-published": [
        ("registry_package", "package_type"),
        ("registry_package", "namespace"),
        ("registry_package", "package_version", "package_url"),
        ("registry_package", "package_version", "container_metadata", "tag", "name"),
    ],
    "webhook-package-published": [
        ("package", "package_type"),
        ("package", "ecosystem"),
        ("package", "package_version", "container_metadata", "tag", "name"),
    ],
    "webhook-installation-created": [("installation", "id"), ("repositories",)],
    "webhook-installation-repositories-added": [
        ("repositories_added",),
        ("repositories_removed",),
    ],
}


def _resolve(schemas: dict[str, object], node: object) -> dict[str, object]:
    while isinstance(node, dict) and "$ref" in node:
        node = schemas[str(node["$ref"]).rsplit("/", 1)[1]]
    if isinstance(node, dict):
        for combined in ("allOf", "anyOf", "oneOf"):
            for option in node.get(combined, []):
                resolved = _resolve(schemas, option)
                if "properties" in resolved:
                    return resolved
    assert isinstance(node, dict)
    return node


def _has_path(schemas: dict[str, object], schema: object, path: tuple[str, ...]) -> bool:
    node = _resolve(schemas, schema)
    for key in path:
        properties = node.get("properties", {})
        assert isinstance(properties, dict)
        if key not in properties:
            return False
        node = _resolve(schemas, properties[key])
    return True


@pytest.mark.parametrize("schema_name", sorted(READ_FIELDS))
def test_fields_read_exist_in_published_schema(shared_dir: Path, schema_name: str) -> None:
    document = json.loads((shared_dir / "contracts/github-openapi-subset.json").read_text())
    schemas = document["components"]["schemas"]
    missing = [
        ".".join(path)
        for path in READ_FIELDS[schema_name]
        if not _has_path(schemas, schemas[schema_name], path)
    ]
    assert missing == []
