"""Verify registry webhook deliveries and turn their payloads into Triggers.

Pure apart from `hmac`: the web layer hands over the raw body, headers and query, and
gets back whether the sender knew the secret and which images (or repositories) to look at.

Senders, what they send, and how they can prove they know the secret:

- `dockerhub`: `repository.repo_name` + `push_data.tag`; can only put it in the URL.
- `quay`: `docker_url` + `updated_tags`; can only put it in the URL.
- `harbor`: `event_data.resources[].resource_url` (or CloudEvents `data`); `Authorization`.
- `gitlab`: a container registry notification envelope (`events[].target`); `Authorization`.
- `generic`: `{"image": "ghcr.io/acme/app:1.2.3"}`, `{"images": [...]}`, `{"repositories":
  [...]}`; HMAC or any token form.

Accepted credentials: `X-Hub-Signature-256` or `X-Signature-256: sha256=<hmac of body>`,
`Authorization: Bearer <secret>` (or the bare secret, as Harbor sends it), `X-Gitlab-Token:
<secret>`, the secret as the last URL path segment (`/webhooks/quay/<secret>`) or `?token=`.
Every comparison is constant-time; a source without a configured secret accepts nothing.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from image_bot.errors import ImageBotError, WebhookPayloadError, register_secret
from image_bot.json_input import load_json
from image_bot.model import ImageName, Trigger
from image_bot.reference import parse_name, parse_reference, split_reference

if TYPE_CHECKING:
    from pydantic import SecretStr

    from image_bot.config import WebhooksSpec

__all__ = [
    "PARSERS",
    "RegistrySource",
    "WebhookSecrets",
    "authenticate",
    "parse_dockerhub",
    "parse_generic",
    "parse_gitlab",
    "parse_harbor",
    "parse_quay",
    "verify_hmac_sha256",
    "verify_token",
]

_SIGNATURE_PREFIX = "sha256="


class RegistrySource(StrEnum):
    """The registry webhook senders image-bot understands (one route each)."""

    DOCKERHUB = "dockerhub"
    HARBOR = "harbor"
    QUAY = "quay"
    GITLAB = "gitlab"
    GENERIC = "generic"


@dataclass(frozen=True, slots=True, repr=False)
class WebhookSecrets:
    """The shared secret of each webhook route; None (or empty) leaves that route disabled.

    Values are registered with `errors.register_secret` so they never show up in messages,
    and the repr names only which routes are configured.
    """

    github: str | None = None
    dockerhub: str | None = None
    harbor: str | None = None
    quay: str | None = None
    gitlab: str | None = None
    generic: str | None = None

    def __post_init__(self) -> None:
        for item in fields(self):
            register_secret(getattr(self, item.name))

    def __repr__(self) -> str:
        configured = [item.name for item in fields(self) if getattr(self, item.name)]
        return f"WebhookSecrets(configured={configured})"

    @classmethod
    def from_spec(cls, spec: WebhooksSpec) -> WebhookSecrets:
        """The secrets of the config file's `service.webhooks` section."""

        def reveal(value: SecretStr | None) -> str | None:
            return value.get_secret_value() if value is not None else None

        return cls(
            github=reveal(spec.github),
            dockerhub=reveal(spec.docker_hub),
            harbor=reveal(spec.harbor),
            quay=reveal(spec.quay),
            gitlab=reveal(spec.gitlab),
            generic=reveal(spec.generic),
        )

    def for_source(self, source: RegistrySource) -> str | None:
        """The secret of a registry route (None when the route is disabled)."""
        value: str | None = getattr(self, source.value)
        return value or None


def verify_hmac_sha256(secret: bytes, body: bytes, signature_header: str | None) -> bool:
    """True when `signature_header` is `sha256=` + the HMAC-SHA256 hex digest of `body`.

    GitHub's `X-Hub-Signature-256` rule; compared in constant time. An empty secret or a
    missing header never verifies.
    """
    if not secret or not signature_header:
        return False
    expected = _SIGNATURE_PREFIX + hmac.new(secret, body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), signature_header.strip().encode())


def verify_token(secret: str, presented: str | None) -> bool:
    """Constant-time comparison of a shared secret with what the sender presented."""
    if not secret or presented is None:
        return False
    return hmac.compare_digest(secret.encode(), presented.encode())


def _presented_tokens(
    headers: Mapping[str, str], query: Mapping[str, str], path_token: str | None
) -> Iterable[str]:
    authorization = headers.get("authorization")
    if authorization is not None:
        scheme, _, value = authorization.strip().partition(" ")
        yield value.strip() if scheme.lower() == "bearer" and value else authorization.strip()
    for candidate in (headers.get("x-gitlab-token"), query.get("token"), path_token):
        if candidate is not None:
            yield candidate


def authenticate(
    secret: str | None,
    body: bytes,
    headers: Mapping[str, str],
    query: Mapping[str, str],
    *,
    path_token: str | None = None,
) -> bool:
    """True when the delivery carries `secret` (as a token) or a valid HMAC of `body`.

    `headers` must look names up case-insensitively (starlette's Headers do) or use
    lower-case keys. Every candidate is checked, so timing says nothing about which failed.
    """
    if not secret:
        return False
    key = secret.encode()
    results = [
        verify_hmac_sha256(key, body, headers.get(name))
        for name in ("x-hub-signature-256", "x-signature-256")
    ]
    presented = _presented_tokens(headers, query, path_token)
    results.extend(verify_token(secret, token) for token in presented)
    return any(results)


# --- payload parsing ----------------------------------------------------------------------------


def _load_object(source: str, body: bytes) -> dict[str, object]:
    try:
        payload = load_json(body)
    except ValueError as exc:
        raise WebhookPayloadError(source, f"body is not JSON we read ({exc})"[:200]) from None
    if not isinstance(payload, dict):
        raise WebhookPayloadError(source, "body is not a JSON object")
    return payload


def _field(source: str, payload: Mapping[str, object], *path: str) -> object:
    value: object = payload
    for key in path:
        if not isinstance(value, Mapping) or key not in value:
            raise WebhookPayloadError(source, f"missing field {'.'.join(path)}")
        value = value[key]
    return value


def _text(source: str, payload: Mapping[str, object], *path: str) -> str:
    value = _field(source, payload, *path)
    if not isinstance(value, str) or not value:
        raise WebhookPayloadError(source, f"field {'.'.join(path)} is not a non-empty string")
    return value


def _name(source: str, text: str) -> ImageName:
    try:
        return parse_name(text)
    except ImageBotError as exc:
        raise WebhookPayloadError(source, exc.message) from None


def _name_of_reference(source: str, text: str) -> ImageName:
    """The repository of `host/path[:tag][@digest]`, tolerating an empty tag (`app:`)."""
    try:
        return parse_reference(text).name
    except ImageBotError:
        return _name(source, split_reference(text.strip())[0])


def _trigger(images: Iterable[ImageName], reason: str) -> Trigger:
    unique = tuple(sorted(dict.fromkeys(images)))
    return Trigger(images=unique, reason=reason if unique else "")


def parse_dockerhub(body: bytes) -> Trigger:
    """Docker Hub repository webhook: `repository.repo_name` was pushed with `push_data.tag`."""
    source = RegistrySource.DOCKERHUB
    payload = _load_object(source, body)
    repo_name = _text(source, payload, "repository", "repo_name")
    tag = _field(source, payload, "push_data", "tag")
    return _trigger([_name(source, repo_name)], f"docker hub push {repo_name}:{tag}")


def parse_quay(body: bytes) -> Trigger:
    """Quay `repo_push` notification: `docker_url` got `updated_tags`."""
    source = RegistrySource.QUAY
    payload = _load_object(source, body)
    docker_url = _text(source, payload, "docker_url")
    tags = payload.get("updated_tags")
    shown = ", ".join(str(tag) for tag in tags) if isinstance(tags, list) else "?"
    return _trigger([_name(source, docker_url)], f"quay push {docker_url} [{shown}]")


_HARBOR_PUSH_TYPES = frozenset({"PUSH_ARTIFACT", "pushImage", "harbor.artifact.pushed"})


def parse_harbor(body: bytes) -> Trigger:
    """Harbor webhook (default or CloudEvents format): images of a `PUSH_ARTIFACT` event.

    Other event types (pull, delete, scan, quota) are valid deliveries that ask for nothing.
    """
    source = RegistrySource.HARBOR
    payload = _load_object(source, body)
    cloud_event = "specversion" in payload
    event_type = _text(source, payload, "type")
    if event_type not in _HARBOR_PUSH_TYPES:
        return Trigger()
    resources = _field(source, payload, "data" if cloud_event else "event_data", "resources")
    if not isinstance(resources, list) or not resources:
        raise WebhookPayloadError(source, "event_data.resources is not a non-empty list")
    urls = [
        item["resource_url"]
        for item in resources
        if isinstance(item, Mapping) and isinstance(item.get("resource_url"), str)
    ]
    if len(urls) != len(resources):
        raise WebhookPayloadError(source, "a resource has no resource_url")
    images = [_name_of_reference(source, url) for url in urls]
    return _trigger(images, f"harbor push {', '.join(urls)}")


def parse_gitlab(body: bytes) -> Trigger:
    """Container registry notification envelope (GitLab's registry, CNCF distribution).

    Only `push` events of a tagged manifest matter; blob pushes, pulls and deletes do not.
    The registry host comes from `request.host`, else from `target.url`.
    """
    source = RegistrySource.GITLAB
    payload = _load_object(source, body)
    events = _field(source, payload, "events")
    if not isinstance(events, list):
        raise WebhookPayloadError(source, "events is not a list")
    images: list[ImageName] = []
    shown: list[str] = []
    for event in events:
        if not isinstance(event, Mapping) or event.get("action") != "push":
            continue
        target = event.get("target")
        if not isinstance(target, Mapping) or not target.get("tag"):
            continue
        repository = _text(source, event, "target", "repository")
        request = event.get("request")
        host = request.get("host") if isinstance(request, Mapping) else None
        if not host and isinstance(target.get("url"), str):
            host = urlsplit(str(target["url"])).netloc
        if not isinstance(host, str) or not host:
            raise WebhookPayloadError(source, "push event names no registry host")
        images.append(_name(source, f"{host}/{repository}"))
        shown.append(f"{host}/{repository}:{target['tag']}")
    return _trigger(images, f"registry push {', '.join(shown)}")


def parse_generic(body: bytes) -> Trigger:
    """`{"image": ref}`, `{"images": [ref, ...]}` and/or `{"repositories": ["owner/repo"]}`."""
    source = RegistrySource.GENERIC
    payload = _load_object(source, body)
    texts: list[object] = []
    if "image" in payload:
        texts.append(payload["image"])
    listed = payload.get("images", [])
    repositories = payload.get("repositories", [])
    if not isinstance(listed, list) or not isinstance(repositories, list):
        raise WebhookPayloadError(source, "images and repositories must be lists")
    texts.extend(listed)
    if not all(isinstance(text, str) for text in (*texts, *repositories)):
        raise WebhookPayloadError(source, "images and repositories must be strings")
    if not texts and not repositories:
        raise WebhookPayloadError(source, "name an image, images or repositories")
    images = [_name_of_reference(source, str(text)) for text in texts]
    repos = tuple(dict.fromkeys(str(repo) for repo in repositories))
    reason = "generic hook " + ", ".join([*(str(text) for text in texts), *repos])
    return Trigger(images=tuple(sorted(dict.fromkeys(images))), repositories=repos, reason=reason)


PARSERS: Mapping[RegistrySource, Callable[[bytes], Trigger]] = {
    RegistrySource.DOCKERHUB: parse_dockerhub,
    RegistrySource.HARBOR: parse_harbor,
    RegistrySource.QUAY: parse_quay,
    RegistrySource.GITLAB: parse_gitlab,
    RegistrySource.GENERIC: parse_generic,
}
