"""Registry webhooks: who may call them (HMAC, shared secret) and what each payload asks for."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from pydantic import SecretStr

from image_bot.config import WebhooksSpec
from image_bot.errors import ImageBotError, WebhookPayloadError
from image_bot.model import ImageName, Trigger
from image_bot.service.webhooks import (
    PARSERS,
    RegistrySource,
    WebhookSecrets,
    authenticate,
    parse_dockerhub,
    parse_generic,
    parse_gitlab,
    parse_harbor,
    parse_quay,
    verify_hmac_sha256,
    verify_token,
)

# The test vector of GitHub's "Validating webhook deliveries" (shared/contracts/github-webhooks.md).
DOCS_SECRET = b"It's a Secret to Everybody"
DOCS_BODY = b"Hello, World!"
DOCS_SIGNATURE = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"


def sign(secret: str | bytes, body: bytes) -> str:
    key = secret.encode() if isinstance(secret, str) else secret
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


# --- HMAC -----------------------------------------------------------------------------------------


def test_github_docs_test_vector_verifies() -> None:
    assert verify_hmac_sha256(DOCS_SECRET, DOCS_BODY, DOCS_SIGNATURE)


@pytest.mark.parametrize(
    ("secret", "body", "header"),
    [
        (DOCS_SECRET, DOCS_BODY, None),  # unsigned
        (DOCS_SECRET, DOCS_BODY, ""),
        (DOCS_SECRET, DOCS_BODY + b" ", DOCS_SIGNATURE),  # body changed after signing
        (b"another secret", DOCS_BODY, DOCS_SIGNATURE),
        (b"", DOCS_BODY, sign(b"", DOCS_BODY)),  # an empty secret never verifies
        (DOCS_SECRET, DOCS_BODY, DOCS_SIGNATURE.removeprefix("sha256=")),  # prefix missing
        (DOCS_SECRET, DOCS_BODY, "sha1=" + DOCS_SIGNATURE.removeprefix("sha256=")),
        (DOCS_SECRET, DOCS_BODY, DOCS_SIGNATURE[:-1]),  # truncated
        (DOCS_SECRET, DOCS_BODY, "sha256=" + "é" * 64),  # non-ASCII garbage
    ],
)
def test_hmac_rejects(secret: bytes, body: bytes, header: str | None) -> None:
    assert not verify_hmac_sha256(secret, body, header)


def test_hmac_signs_raw_bytes_including_unicode() -> None:
    body = json.dumps({"tag": "1.2.3-ünïcode"}, ensure_ascii=False).encode()
    assert verify_hmac_sha256(b"k3y", body, sign(b"k3y", body))
    assert not verify_hmac_sha256(b"k3y", body, sign(b"k3y", json.dumps(json.loads(body)).encode()))


# --- shared secrets -------------------------------------------------------------------------------

SECRET = "s3cr3t-value"
BODY = b'{"image": "ghcr.io/acme/app:1.2.3"}'


@pytest.mark.parametrize(
    ("headers", "query", "path_token"),
    [
        ({"authorization": f"Bearer {SECRET}"}, {}, None),
        ({"authorization": f"bearer  {SECRET}"}, {}, None),
        ({"authorization": SECRET}, {}, None),  # Harbor sends its auth header verbatim
        ({"x-gitlab-token": SECRET}, {}, None),
        ({}, {"token": SECRET}, None),  # Docker Hub and Quay can only vary the URL
        ({}, {}, SECRET),
        ({"x-hub-signature-256": sign(SECRET, BODY)}, {}, None),
        ({"x-signature-256": sign(SECRET, BODY)}, {}, None),
        ({"authorization": "Bearer wrong", "x-gitlab-token": SECRET}, {}, None),
    ],
)
def test_authenticate_accepts_each_credential_form(
    headers: dict[str, str], query: dict[str, str], path_token: str | None
) -> None:
    assert authenticate(SECRET, BODY, headers, query, path_token=path_token)


@pytest.mark.parametrize(
    ("secret", "headers", "query", "path_token"),
    [
        (SECRET, {}, {}, None),  # nothing presented
        (SECRET, {"authorization": "Bearer s3cr3t-valu"}, {}, None),
        (SECRET, {"authorization": f"Basic {SECRET}"}, {}, None),
        (SECRET, {"x-gitlab-token": SECRET.upper()}, {}, None),
        (SECRET, {}, {"token": ""}, ""),
        (SECRET, {"x-hub-signature-256": sign(SECRET, BODY + b"\n")}, {}, None),
        (None, {"authorization": "Bearer "}, {"token": ""}, ""),  # route without a secret
        ("", {"authorization": ""}, {"token": ""}, ""),
    ],
)
def test_authenticate_rejects(
    secret: str | None, headers: dict[str, str], query: dict[str, str], path_token: str | None
) -> None:
    assert not authenticate(secret, BODY, headers, query, path_token=path_token)


def test_verify_token_is_exact() -> None:
    assert verify_token("abc", "abc")
    assert not verify_token("abc", "abcd")
    assert not verify_token("abc", None)
    assert not verify_token("", "")


def test_secrets_never_show_in_repr_or_errors() -> None:
    secrets = WebhookSecrets(github="gh-hook-secret-1", quay="quay-secret-2")
    assert "gh-hook-secret-1" not in repr(secrets)
    assert "configured=['github', 'quay']" in repr(secrets)
    error = ImageBotError("delivery to /webhooks/quay/quay-secret-2 failed")
    assert "quay-secret-2" not in str(error)


def test_secrets_from_config_section() -> None:
    spec = WebhooksSpec(
        github=SecretStr("g"), docker_hub=SecretStr("d"), harbor=SecretStr("h"), generic=None
    )
    secrets = WebhookSecrets.from_spec(spec)
    assert secrets.github == "g"
    assert secrets.for_source(RegistrySource.DOCKERHUB) == "d"
    assert secrets.for_source(RegistrySource.HARBOR) == "h"
    assert secrets.for_source(RegistrySource.GENERIC) is None
    assert WebhookSecrets(quay="").for_source(RegistrySource.QUAY) is None


# --- payloads -------------------------------------------------------------------------------------


def body(payload: object) -> bytes:
    return json.dumps(payload).encode()


def test_dockerhub_push() -> None:
    # shape of docs.docker.com "Docker Hub webhooks" example payload
    payload = {
        "callback_url": "https://registry.hub.docker.com/u/svendowideit/testhook/hook/2141b5bi5i5b02bec211i4eeih0242eg11000a/",
        "push_data": {"pushed_at": 1417566161, "pusher": "trustedbuilder", "tag": "1.2.3"},
        "repository": {
            "name": "testhook",
            "namespace": "svendowideit",
            "repo_name": "svendowideit/testhook",
            "repo_url": "https://registry.hub.docker.com/u/svendowideit/testhook/",
            "status": "Active",
        },
    }
    trigger = parse_dockerhub(body(payload))
    assert trigger.images == (ImageName("docker.io", "svendowideit/testhook"),)
    assert trigger.repositories == ()
    assert "svendowideit/testhook:1.2.3" in trigger.reason


def test_dockerhub_single_component_name_is_a_library_image() -> None:
    payload = {"push_data": {"tag": "1"}, "repository": {"repo_name": "nginx"}}
    assert parse_dockerhub(body(payload)).images == (ImageName("docker.io", "library/nginx"),)


def harbor_payload(event_type: str, *urls: str) -> dict[str, object]:
    # shape of goharbor.io "Configure webhook notifications" (HTTP, default format)
    return {
        "type": event_type,
        "occur_at": 1680502346,
        "operator": "admin",
        "event_data": {
            "resources": [
                {"digest": "sha256:" + "c" * 64, "tag": url.rpartition(":")[2], "resource_url": url}
                for url in urls
            ],
            "repository": {
                "date_created": 1680501893,
                "name": "app",
                "namespace": "team",
                "repo_full_name": "team/app",
                "repo_type": "private",
            },
        },
    }


def test_harbor_push_artifact() -> None:
    host = "harbor.example.com:8443"
    payload = harbor_payload("PUSH_ARTIFACT", f"{host}/team/app:2.0.0", f"{host}/team/app:2")
    trigger = parse_harbor(body(payload))
    assert trigger.images == (ImageName(host, "team/app"),)


def test_harbor_digest_only_resource() -> None:
    payload = harbor_payload("PUSH_ARTIFACT", "harbor.example.com/team/app@sha256:" + "d" * 64)
    assert parse_harbor(body(payload)).images == (ImageName("harbor.example.com", "team/app"),)


def test_harbor_cloudevents_format() -> None:
    inner = harbor_payload("x", "harbor.example.com/team/app:1.0")["event_data"]
    payload = {
        "specversion": "1.0",
        "id": "4b9b7d7c",
        "type": "harbor.artifact.pushed",
        "source": "/projects/1/webhook/policies/1",
        "datacontenttype": "application/json",
        "data": inner,
    }
    assert parse_harbor(body(payload)).images == (ImageName("harbor.example.com", "team/app"),)


@pytest.mark.parametrize("event_type", ["PULL_ARTIFACT", "DELETE_ARTIFACT", "SCANNING_COMPLETED"])
def test_harbor_other_events_ask_for_nothing(event_type: str) -> None:
    trigger = parse_harbor(body(harbor_payload(event_type, "harbor.example.com/team/app:1")))
    assert trigger.is_empty
    assert trigger == Trigger()


def test_quay_repo_push() -> None:
    # shape of docs.quay.io "Repository Push" notification
    payload = {
        "name": "repository",
        "repository": "mynamespace/repository",
        "namespace": "mynamespace",
        "docker_url": "quay.io/mynamespace/repository",
        "homepage": "https://quay.io/repository/mynamespace/repository",
        "updated_tags": ["latest", "1.4.0"],
    }
    trigger = parse_quay(body(payload))
    assert trigger.images == (ImageName("quay.io", "mynamespace/repository"),)
    assert "1.4.0" in trigger.reason


def registry_event(action: str, repository: str, tag: str | None, host: str | None) -> object:
    # CNCF distribution notification envelope (what GitLab's container registry sends)
    target: dict[str, object] = {
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": "sha256:" + "e" * 64,
        "repository": repository,
        "url": f"https://registry.gitlab.example.com/v2/{repository}/manifests/sha256:{'e' * 64}",
    }
    if tag is not None:
        target["tag"] = tag
    event: dict[str, object] = {"id": "a1", "action": action, "target": target}
    if host is not None:
        event["request"] = {"id": "r1", "host": host, "method": "PUT", "useragent": "docker"}
    return event


def test_gitlab_registry_push_events() -> None:
    payload = {
        "events": [
            registry_event("push", "group/project/app", "1.2.3", "registry.gitlab.example.com"),
            registry_event("push", "group/project/app", None, "registry.gitlab.example.com"),
            registry_event("pull", "group/project/other", "9", "registry.gitlab.example.com"),
            registry_event("push", "group/project/app", "1.2", "registry.gitlab.example.com"),
            registry_event("push", "group/project/worker", "7", None),  # host from target.url
        ]
    }
    trigger = parse_gitlab(body(payload))
    assert trigger.images == (
        ImageName("registry.gitlab.example.com", "group/project/app"),
        ImageName("registry.gitlab.example.com", "group/project/worker"),
    )


def test_gitlab_blob_and_pull_events_ask_for_nothing() -> None:
    payload = {
        "events": [
            registry_event("push", "group/project/app", None, "registry.example.com"),
            registry_event("pull", "group/project/app", "1", "registry.example.com"),
        ]
    }
    assert parse_gitlab(body(payload)).is_empty


@pytest.mark.parametrize(
    ("payload", "images", "repositories"),
    [
        ({"image": "ghcr.io/acme/app:1.2.3"}, (ImageName("ghcr.io", "acme/app"),), ()),
        (
            {"images": ["nginx:1.27", "ghcr.io/acme/app@sha256:" + "f" * 64, "nginx:1.27.1"]},
            (ImageName("docker.io", "library/nginx"), ImageName("ghcr.io", "acme/app")),
            (),
        ),
        ({"repositories": ["acme/gitops", "acme/gitops"]}, (), ("acme/gitops",)),
        (
            {"image": "quay.io/x/y", "repositories": ["acme/gitops"]},
            (ImageName("quay.io", "x/y"),),
            ("acme/gitops",),
        ),
    ],
)
def test_generic_hook(
    payload: object, images: tuple[ImageName, ...], repositories: tuple[str, ...]
) -> None:
    trigger = parse_generic(body(payload))
    assert (trigger.images, trigger.repositories) == (images, repositories)


@pytest.mark.parametrize(
    ("source", "raw"),
    [
        (RegistrySource.GENERIC, b"not json"),
        (RegistrySource.GENERIC, b"[1, 2]"),
        (RegistrySource.GENERIC, b"{}"),
        (RegistrySource.GENERIC, b'{"image": "UPPER/Case:1"}'),
        (RegistrySource.GENERIC, b'{"image": 42}'),
        (RegistrySource.GENERIC, b'{"images": "nginx"}'),
        (RegistrySource.DOCKERHUB, b'{"push_data": {"tag": "1"}}'),
        (RegistrySource.DOCKERHUB, b'{"repository": {"repo_name": ""}, "push_data": {}}'),
        (RegistrySource.QUAY, b'{"updated_tags": ["1"]}'),
        (RegistrySource.HARBOR, b'{"type": "PUSH_ARTIFACT", "event_data": {"resources": []}}'),
        (RegistrySource.HARBOR, b'{"type": "PUSH_ARTIFACT", "event_data": {"resources": [{}]}}'),
        (RegistrySource.GITLAB, b'{"events": {}}'),
        (RegistrySource.GITLAB, b'{"events": [{"action": "push", "target": {"tag": "1"}}]}'),
        (RegistrySource.HARBOR, b"\xff\xfe"),
    ],
)
def test_malformed_payloads_raise_payload_errors(source: RegistrySource, raw: bytes) -> None:
    with pytest.raises(WebhookPayloadError) as caught:
        PARSERS[source](raw)
    assert caught.value.source == source
    assert isinstance(caught.value, ImageBotError)


def test_every_source_has_a_parser() -> None:
    assert set(PARSERS) == set(RegistrySource)
