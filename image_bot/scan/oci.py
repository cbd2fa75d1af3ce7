"""OCI Distribution over httpx.AsyncClient: paged tags, manifests, config blobs.

One `RegistrySession` (connection pool, concurrency limit, auth, pacing, retries) per
registry host, created on first use. Only RegistryError subclasses leave this module.
"""

from __future__ import annotations

import asyncio
import collections
import json
import ssl
from collections.abc import Sequence, Set
from pathlib import Path
from types import TracebackType
from typing import Self

import httpx

from image_bot.errors import ImageNotFound, RegistryError
from image_bot.model import Fact, ImageName, TagFacts, TagList
from image_bot.scan.auth import TokenCache
from image_bot.scan.dockerconfig import Credentials, DockerConfig, default_docker_config_path
from image_bot.scan.hosts import RegistrySettings, endpoint_for, settings_by_host
from image_bot.scan.manifests import (
    ACCEPT_MANIFESTS,
    ImageConfig,
    Manifest,
    ManifestFormatError,
    content_digest,
    parse_config,
    parse_manifest,
)
from image_bot.scan.pacing import Sleep
from image_bot.scan.session import RegistrySession

__all__ = ["OCIRegistry"]

_PAGE_SIZE = 1000
_MAX_PAGES = 10_000
_CONFIG_FACTS = frozenset({Fact.CREATED, Fact.LABELS})


class OCIRegistry:
    """A `Registry` that speaks the OCI Distribution API to any v2 registry.

    Hosts without settings are read anonymously over https, with credentials from the docker
    config: `docker_config` if given, else `$DOCKER_CONFIG/config.json` or
    `~/.docker/config.json` (`default_docker_config_path`). `requests` counts the HTTP
    requests sent per registry host (token requests and retries included); once closed,
    `rate_limits` holds the last quota each host reported (`ratelimit-remaining`).
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
    ) -> None:
        self._settings = settings_by_host(settings)
        self.docker_config = DockerConfig(docker_config or default_docker_config_path())
        self._timeout = timeout
        self._retries = retries
        self._transport = transport
        self._backoff = backoff
        self._max_retry_after = max_retry_after
        self._sleep = sleep
        self._sessions: dict[str, RegistrySession] = {}
        self._credentials: dict[str, Credentials | None] = {}
        self._credential_lock = asyncio.Lock()
        self._tokens = TokenCache()
        self._tls: ssl.SSLContext | None = None  # built once (~0.1 s), shared by every pool
        self.requests: collections.Counter[str] = collections.Counter()
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
                self._tls = httpx.create_ssl_context()
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
            )
            self._sessions[host] = session
        return session

    async def _credentials_for(self, host: str) -> Credentials | None:
        """Settings first, then the docker config for the host actually contacted."""
        if host in self._credentials:
            return self._credentials[host]
        async with self._credential_lock:
            if host not in self._credentials:
                settings = self._settings.get(host)
                if settings is not None and settings.username is not None:
                    found: Credentials | None = Credentials(settings.username, settings.password)
                else:
                    lookup_host = host
                    if settings is not None and settings.mirror is not None:
                        lookup_host = httpx.URL(settings.mirror).netloc.decode()
                    # credential helpers are programs: keep them off the event loop
                    found = await asyncio.to_thread(self.docker_config.lookup, lookup_host)
                self._credentials[host] = found
        return self._credentials[host]

    async def _get(
        self, name: ImageName, path: str, *, method: str = "GET", accept: str | None = None
    ) -> httpx.Response:
        headers = {"Accept": accept} if accept else {}
        response = await self._session(name.registry).request(
            method, path, repository=name.repository, headers=headers
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
        """Every tag, following `Link` pages; registries that ignore `n` answer in one page."""
        session = self._session(name.registry)
        path: str | None = f"/v2/{name.repository}/tags/list?n={_PAGE_SIZE}"
        tags: dict[str, None] = {}
        for _ in range(_MAX_PAGES):
            if path is None:
                break
            response = await self._get(name, path)
            try:
                page = response.json().get("tags") or []
            except (ValueError, AttributeError):
                raise RegistryError(
                    name.registry, "tag list is not JSON", image=str(name)
                ) from None
            if not isinstance(page, list):
                raise RegistryError(name.registry, "tag list has no tags array", image=str(name))
            before = len(tags)
            tags.update(dict.fromkeys(str(tag) for tag in page))
            path = _next_page(response, session.endpoint.base_url)
            if path is not None and len(tags) == before:
                break  # a page with nothing new: stop rather than loop
        return TagList(image=name, tags=tuple(tags))

    async def facts(self, name: ImageName, tag: str, wanted: Set[Fact]) -> TagFacts:
        """HEAD for a digest alone; GET the manifest (and config blob) for anything more."""
        reference = f"/v2/{name.repository}/manifests/{tag}"
        if not (wanted - {Fact.DIGEST}):
            response = await self._get(name, reference, method="HEAD", accept=ACCEPT_MANIFESTS)
            digest = response.headers.get("docker-content-digest")
            if digest:
                return TagFacts(digest=digest)
        response = await self._get(name, reference, accept=ACCEPT_MANIFESTS)
        digest = response.headers.get("docker-content-digest") or content_digest(response.content)
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
            labels=dict(config.labels) if config and Fact.LABELS in wanted else {},
        )

    def _manifest(self, name: ImageName, response: httpx.Response) -> Manifest:
        try:
            return parse_manifest(response.content, response.headers.get("content-type"))
        except ManifestFormatError as error:
            raise RegistryError(name.registry, str(error), image=str(name)) from None

    async def _config(self, name: ImageName, manifest: Manifest) -> ImageConfig | None:
        if manifest.is_index:
            child = manifest.preferred_child()
            if child is None:
                return None
            path = f"/v2/{name.repository}/manifests/{child}"
            manifest = self._manifest(name, await self._get(name, path, accept=ACCEPT_MANIFESTS))
        if manifest.config_digest is None:
            return None
        blob = await self._get(name, f"/v2/{name.repository}/blobs/{manifest.config_digest}")
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


def _error_text(response: httpx.Response, fallback: str) -> str:
    """The first `errors[].code: message` of a distribution error body, else `fallback`."""
    try:
        first = json.loads(response.content)["errors"][0]
        return f"{first['code']}: {first.get('message', '')}".strip(": ")
    except (ValueError, KeyError, IndexError, TypeError):
        return fallback


def _next_page(response: httpx.Response, base: httpx.URL) -> str | None:
    """The path+query of `Link: <...>; rel="next"` if it stays on the same origin."""
    link = response.links.get("next")
    if not link or "url" not in link:
        return None
    target = response.request.url.join(link["url"])
    if (target.scheme, target.host, target.port) != (base.scheme, base.host, base.port):
        return None  # never follow pagination (and our credentials) to another origin
    return target.raw_path.decode("ascii")
