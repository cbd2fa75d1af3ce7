"""OCI Distribution over httpx.AsyncClient: paged tags, manifests, config blobs.

One `RegistrySession` (connection pool, concurrency limit, auth, pacing, retries) per
registry host, created on first use. The boundary is total: only RegistryError subclasses
leave `list_tags` and `facts`, whatever a registry sends. Tags that are not valid tag names
(control characters, spaces, 129 characters...) are dropped and counted in `warnings`.
"""

from __future__ import annotations

import asyncio
import collections
import ssl
from collections.abc import AsyncIterator, Sequence, Set
from contextlib import asynccontextmanager
from pathlib import Path
from types import TracebackType
from typing import Self

import httpx

from image_bot.errors import ImageNotFound, RegistryError
from image_bot.json_input import load_json
from image_bot.model import Fact, ImageName, TagFacts, TagList
from image_bot.reference import is_valid_digest, is_valid_tag
from image_bot.scan.auth import TokenCache
from image_bot.scan.cloud.provider import CloudContext, CloudCredentials
from image_bot.scan.credentials import CredentialResolver
from image_bot.scan.dockerconfig import Credentials, DockerConfig, default_docker_config_path
from image_bot.scan.hosts import RegistrySettings, endpoint_for, settings_by_host
from image_bot.scan.manifests import (
    ACCEPT_MANIFESTS,
    ImageConfig,
    Manifest,
    ManifestCache,
    ManifestFormatError,
    content_digest,
    parse_config,
    parse_manifest,
)
from image_bot.scan.pacing import Sleep
from image_bot.scan.session import Bounds, RegistrySession
from image_bot.scan.transport import describe
from image_bot.scan.trust import DeferredTrustContext

__all__ = ["OCIRegistry"]

_PAGE_SIZE = 1000
_MAX_PAGES = 10_000
_CONFIG_FACTS = frozenset({Fact.CREATED, Fact.LABELS})


class OCIRegistry:
    """A `Registry` that speaks the OCI Distribution API to any v2 registry.

    Hosts without settings are read anonymously over https, with credentials from the docker
    config: `docker_config` if given, else `$DOCKER_CONFIG/config.json` or
    `~/.docker/config.json` (`default_docker_config_path`), or from their cloud's identity
    (`scan.credentials` says in which order). `requests` counts the HTTP requests sent per
    registry host (token requests and retries included); `warnings` says what was dropped.
    `bounds` caps each answer's size; `cloud` keeps cloud credentials (share it across
    passes to keep them longer than one); `tls` is every connection's TLS context (share it
    to read the trust store once; by default a `DeferredTrustContext`, read at the first
    TLS handshake); `tokens` holds the Bearer tokens (share it between the registries of a
    pass, the scan's and the pull requests' details', so a scope's token is asked once), and
    `manifests` the manifests read, by digest (share it too: a manifest is read once).
    Once closed, `rate_limits` holds the last quota each host reported (`ratelimit-remaining`).
    """

    def __init__(
        self,
        settings: Sequence[RegistrySettings] = (),
        *,
        docker_config: Path | None = None,
        timeout: float = 30.0,
        retries: int = 4,
        transport: httpx.AsyncBaseTransport | None = None,
        backoff: float = 0.5,
        max_retry_after: float = 60.0,
        sleep: Sleep = asyncio.sleep,
        bounds: Bounds | None = None,
        cloud: CloudCredentials | None = None,
        tls: ssl.SSLContext | None = None,
        tokens: TokenCache | None = None,
        manifests: ManifestCache | None = None,
    ) -> None:
        self._settings = settings_by_host(settings)
        self.bounds = bounds or Bounds()
        self.docker_config = DockerConfig(docker_config or default_docker_config_path())
        self.cloud = cloud or CloudCredentials()
        self._resolver = CredentialResolver(self._settings, self.docker_config, self.cloud)
        self._timeout = timeout
        self._retries = retries
        self._transport = transport
        self._backoff = backoff
        self._max_retry_after = max_retry_after
        self._sleep = sleep
        self._sessions: dict[str, RegistrySession] = {}
        self._tokens = tokens if tokens is not None else TokenCache()
        self._manifests = manifests if manifests is not None else ManifestCache()
        self._tls = tls  # shared by every pool
        self.requests: collections.Counter[str] = collections.Counter()
        self.warnings: list[str] = []  # what was dropped on the way (invalid tags)
        self.rate_limits: dict[str, int] = {}

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close every connection pool (keeping each host's last reported quota)."""
        sessions, self._sessions = list(self._sessions.values()), {}
        for session in sessions:
            if session.pacer.remaining is not None:
                self.rate_limits[session.host] = session.pacer.remaining
            await session.aclose()

    def _session(self, host: str) -> RegistrySession:
        session = self._sessions.get(host)
        if session is None:
            if self._tls is None:
                self._tls = DeferredTrustContext()
            endpoint = endpoint_for(self._settings.get(host) or RegistrySettings(host))
            session = RegistrySession(
                endpoint,
                lambda: self._credentials_for(host),
                requests=self.requests,
                tokens=self._tokens,
                timeout=self._timeout,
                retries=self._retries,
                backoff=self._backoff,
                max_retry_after=self._max_retry_after,
                transport=self._transport,
                sleep=self._sleep,
                verify=self._tls,
                bounds=self.bounds,
            )
            self._sessions[host] = session
        return session

    async def _credentials_for(self, host: str) -> Credentials | None:
        def context(host: str) -> CloudContext:
            session = self._session(host)
            return CloudContext(
                session.endpoint, session.auth_client, session.endpoint.settings.timeout
            )

        return await self._resolver.for_host(host, context)

    async def _get(
        self,
        name: ImageName,
        path: str,
        *,
        max_bytes: int,
        method: str = "GET",
        accept: str | None = None,
    ) -> httpx.Response:
        headers = {"Accept": accept} if accept else {}
        response = await self._session(name.registry).request(
            method, path, repository=name.repository, headers=headers, max_bytes=max_bytes
        )
        if response.status_code == 404:
            raise ImageNotFound(name.registry, _error_text(response, "not found"), image=str(name))
        if not response.is_success:
            raise RegistryError(
                name.registry,
                f"{method} {path}: {_error_text(response, f'HTTP {response.status_code}')}",
                image=str(name),
            )
        return response

    async def list_tags(self, name: ImageName) -> TagList:
        """Every valid tag, following `Link` pages (registries that ignore `n` send one)."""
        async with _boundary(name):
            tags, dropped = await self._list_tags(name)
        if dropped:
            example = dropped[0] if len(dropped[0]) <= 40 else dropped[0][:40] + "..."
            self.warnings.append(
                f"{name}: dropped {len(dropped)} tag(s) that are not valid tag names"
                f" (e.g. {example!r})"
            )
        return TagList(image=name, tags=tuple(tags))

    async def _list_tags(self, name: ImageName) -> tuple[dict[str, None], list[str]]:
        session = self._session(name.registry)
        path: str | None = f"/v2/{name.repository}/tags/list?n={_PAGE_SIZE}"
        tags: dict[str, None] = {}
        dropped: list[str] = []
        for _ in range(_MAX_PAGES):
            if path is None:
                break
            response = await self._get(name, path, max_bytes=self.bounds.tags)
            page = _tags_page(name, response)
            before = len(tags)
            for tag in page:
                if isinstance(tag, str) and is_valid_tag(tag):
                    tags[tag] = None
                else:
                    dropped.append(tag if isinstance(tag, str) else repr(tag)[:40])
            path = _next_page(name, response, session.endpoint.base_url)
            if path is not None and len(tags) == before:
                break  # a page with nothing new: stop rather than loop
        return tags, dropped

    async def facts(self, name: ImageName, tag: str, wanted: Set[Fact]) -> TagFacts:
        """HEAD for a digest alone; GET the manifest (and config blob) for anything more.
        `tag` may be a digest (`sha256:...`): the facts of that manifest."""
        async with _boundary(name):
            if not (is_valid_tag(tag) or is_valid_digest(tag)):
                raise RegistryError(
                    name.registry, f"not a valid tag: {tag[:40]!r}", image=str(name)
                )
            return await self._facts(name, tag, wanted)

    async def _facts(self, name: ImageName, tag: str, wanted: Set[Fact]) -> TagFacts:
        reference = f"/v2/{name.repository}/manifests/{tag}"
        manifest_bytes = self.bounds.manifest
        if not (wanted - {Fact.DIGEST}):
            response = await self._get(
                name, reference, method="HEAD", accept=ACCEPT_MANIFESTS, max_bytes=manifest_bytes
            )
            digest = _header_digest(name, response)
            if digest:
                return TagFacts(digest=digest)
        known = (
            self._manifests.get(name.registry, name.repository, tag)
            if is_valid_digest(tag)
            else None
        )
        if known is not None:  # a manifest this pass read already (by tag or by digest)
            digest, manifest = tag, known
        else:
            response = await self._get(
                name, reference, accept=ACCEPT_MANIFESTS, max_bytes=manifest_bytes
            )
            digest = _header_digest(name, response) or content_digest(response.content)
            manifest = self._manifest(name, response)
        platforms = manifest.platforms if manifest.is_index else None
        config: ImageConfig | None = None
        if (Fact.PLATFORMS in wanted and not manifest.is_index) or wanted & _CONFIG_FACTS:
            config = await self._config(name, manifest)
        if config is not None and not manifest.is_index and config.platform:
            platforms = frozenset({config.platform})
        return TagFacts(
            digest=digest,
            created=config.created if config and Fact.CREATED in wanted else None,
            platforms=platforms if Fact.PLATFORMS in wanted else None,
            labels=_labels(manifest, config) if Fact.LABELS in wanted else {},
        )

    def _manifest(self, name: ImageName, response: httpx.Response) -> Manifest:
        """The manifest `response` holds, kept by its bytes' digest for the rest of the pass."""
        try:
            manifest = parse_manifest(response.content, response.headers.get("content-type"))
        except ManifestFormatError as error:
            raise RegistryError(name.registry, str(error), image=str(name)) from None
        self._manifests.put(
            name.registry, name.repository, content_digest(response.content), manifest
        )
        return manifest

    async def _config(self, name: ImageName, manifest: Manifest) -> ImageConfig | None:
        if manifest.is_index:
            child = manifest.preferred_child()
            if child is None:
                return None
            known = self._manifests.get(name.registry, name.repository, child)
            if known is None:
                path = f"/v2/{name.repository}/manifests/{child}"
                child_manifest = await self._get(
                    name, path, accept=ACCEPT_MANIFESTS, max_bytes=self.bounds.manifest
                )
                known = self._manifest(name, child_manifest)
            manifest = known
        if manifest.config_digest is None:
            return None
        blob = await self._get(
            name,
            f"/v2/{name.repository}/blobs/{manifest.config_digest}",
            max_bytes=self.bounds.blob,
        )
        if content_digest(blob.content) != manifest.config_digest:
            raise RegistryError(
                name.registry,
                f"config blob does not match {manifest.config_digest}",
                image=str(name),
            )
        try:
            return parse_config(blob.content)
        except ManifestFormatError as error:
            raise RegistryError(name.registry, str(error), image=str(name)) from None


@asynccontextmanager
async def _boundary(name: ImageName) -> AsyncIterator[None]:
    """Whatever goes wrong inside fails this image only, as a RegistryError."""
    try:
        yield
    except RegistryError:
        raise
    except Exception as error:
        raise RegistryError(
            name.registry, f"unexpected {describe(error)[:300]}", image=str(name)
        ) from error


def _header_digest(name: ImageName, response: httpx.Response) -> str | None:
    """`Docker-Content-Digest`, if sent; a value that is no digest fails the image (it
    would be written into manifests when a policy pins digests)."""
    digest = response.headers.get("docker-content-digest")
    if digest and not is_valid_digest(digest):
        raise RegistryError(
            name.registry, f"Docker-Content-Digest {digest[:80]!r} is not a digest", image=str(name)
        )
    return digest or None


def _tags_page(name: ImageName, response: httpx.Response) -> list[object]:
    """The `tags` array of one tag-list page (`null` is an empty list)."""
    try:
        body = load_json(response.content)
    except ValueError as error:
        raise RegistryError(
            name.registry, f"tag list is not readable JSON: {error}"[:300], image=str(name)
        ) from None
    page = body.get("tags") if isinstance(body, dict) else None
    if page is None and isinstance(body, dict):
        return []
    if not isinstance(page, list):
        raise RegistryError(name.registry, "tag list has no tags array", image=str(name))
    return page


def _error_text(response: httpx.Response, fallback: str) -> str:
    """The first `errors[].code: message` of a distribution error body, else `fallback`."""
    try:
        body = load_json(response.content)
        first = body["errors"][0]  # type: ignore[index]
        text = f"{first['code']}: {first.get('message', '')}".strip(": ")
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        return fallback
    return text[:300] if text.isprintable() else repr(text[:300])


def _next_page(name: ImageName, response: httpx.Response, base: httpx.URL) -> str | None:
    """The path+query of `Link: <...>; rel="next"` if it stays on the same origin."""
    link = response.links.get("next")
    if not link or "url" not in link:
        return None
    try:
        target = response.request.url.join(link["url"])
    except httpx.InvalidURL:
        raise RegistryError(
            name.registry, f"the next-page Link {link['url'][:80]!r} is not a URL", image=str(name)
        ) from None
    if (target.scheme, target.host, target.port) != (base.scheme, base.host, base.port):
        return None  # never follow pagination (and our credentials) to another origin
    return target.raw_path.decode("ascii")


def _labels(manifest: Manifest, config: ImageConfig | None) -> dict[str, str]:
    """The index's (or manifest's) OCI annotations, then the config's labels over them."""
    return {**manifest.annotations, **(config.labels if config else {})}
