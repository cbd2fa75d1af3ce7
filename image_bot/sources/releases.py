"""Fetch a source repository's releases from GitHub or GitLab over httpx (the adapter).

One GET of the newest releases (`per_page` of them), bounded in time and size; anonymous
unless `release_notes.hosts` gives the host a token (never the forges' tokens: the source
comes from an image label, and must not make the bot read a private repository into a
pull request). Every failure is a `ReleasesUnavailable` whose message is the one line the
pull request shows instead of the notes; none of them fails a pass.
"""

from __future__ import annotations

import json
import urllib.parse
from datetime import datetime
from typing import TYPE_CHECKING

from image_bot.sources.links import SourceKind, SourceRepository
from image_bot.sources.notes import RawRelease

if TYPE_CHECKING:
    import httpx

__all__ = ["ReleaseFetcher", "ReleasesUnavailable", "releases_page"]

_PER_PAGE = 30


class ReleasesUnavailable(Exception):
    """The releases could not be had; `str()` says why in one line."""


def releases_page(source: SourceRepository) -> str:
    """The source's releases page (where the notes left out are)."""
    if source.forge is not None and source.forge.kind is SourceKind.GITLAB:
        return f"{source.url}/-/releases"
    return f"{source.url}/releases"


class ReleaseFetcher:
    """Reads releases with one shared `httpx.Client` (pass one in, or it makes its own)."""

    def __init__(
        self, *, timeout: float = 10.0, max_bytes: int = 2 << 20, client: httpx.Client | None = None
    ) -> None:
        self._timeout = timeout
        self._max_bytes = max_bytes
        self._client = client
        self._owns = client is None

    def close(self) -> None:
        """Close the client this fetcher made (one passed in is the caller's)."""
        if self._client is not None and self._owns:
            self._client.close()

    def _http(self) -> httpx.Client:
        if self._client is None:
            import httpx  # noqa: PLC0415  (only passes that write a pull request need it)

            self._client = httpx.Client(timeout=self._timeout, follow_redirects=False)
        return self._client

    def releases(self, source: SourceRepository) -> list[RawRelease]:
        """The newest releases of `source`, newest first; ReleasesUnavailable when not."""
        forge = source.forge
        if forge is None:
            raise ReleasesUnavailable(f"{source.host} is not a forge image-bot reads releases from")
        if forge.kind is SourceKind.GITHUB:
            url = f"{forge.api_url}/repos/{source.path}/releases"
            headers = {"Accept": "application/vnd.github+json"}
            if forge.token:
                headers["Authorization"] = f"Bearer {forge.token}"
        else:
            project = urllib.parse.quote(source.path, safe="")
            url = f"{forge.api_url}/projects/{project}/releases"
            headers = {"PRIVATE-TOKEN": forge.token} if forge.token else {}
        data = self._get(url, headers, {"per_page": str(_PER_PAGE)})
        if not isinstance(data, list):
            raise ReleasesUnavailable("the releases answer is not a list")
        read = _github_release if forge.kind is SourceKind.GITHUB else _gitlab_release
        return [r for r in (read(item, source) for item in data) if r is not None]

    def _get(self, url: str, headers: dict[str, str], params: dict[str, str]) -> object:
        import httpx  # noqa: PLC0415

        try:
            with self._http().stream("GET", url, headers=headers, params=params) as response:
                if response.status_code in (401, 403, 404):
                    limited = response.headers.get("x-ratelimit-remaining") == "0"
                    why = "rate limited" if limited else "private or missing"
                    raise ReleasesUnavailable(
                        f"the source repository is {why} ({response.status_code})"
                    )
                if response.status_code == 429:
                    raise ReleasesUnavailable("the source's forge rate-limits us (429)")
                if response.status_code != 200:
                    raise ReleasesUnavailable(f"the source's forge answered {response.status_code}")
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > self._max_bytes:
                        raise ReleasesUnavailable(
                            f"the releases answer exceeds {self._max_bytes} bytes"
                        )
        except httpx.TimeoutException:
            raise ReleasesUnavailable(
                f"the source's forge did not answer in {self._timeout:g}s"
            ) from None
        except httpx.HTTPError as error:
            raise ReleasesUnavailable(
                f"the source's forge is unreachable ({type(error).__name__})"
            ) from None
        try:
            return json.loads(bytes(body))
        except (ValueError, RecursionError):
            raise ReleasesUnavailable("the releases answer is not JSON") from None


def _text(item: dict[str, object], key: str) -> str:
    value = item.get(key)
    return value if isinstance(value, str) else ""


def _when(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None
    except ValueError:
        return None


def _link(url: str, source: SourceRepository, tag: str) -> str:
    """The release's own page when it is on the source repository, else one we build."""
    if url.startswith(source.url + "/") and " " not in url and "<" not in url:
        return url
    return f"{releases_page(source)}/tag/{urllib.parse.quote(tag, safe='')}"


def _github_release(item: object, source: SourceRepository) -> RawRelease | None:
    if not isinstance(item, dict) or item.get("draft") is True:
        return None
    tag = _text(item, "tag_name")
    if not tag:
        return None
    return RawRelease(
        tag=tag,
        name=_text(item, "name"),
        url=_link(_text(item, "html_url"), source, tag),
        body=_text(item, "body"),
        published=_when(_text(item, "published_at")),
    )


def _gitlab_release(item: object, source: SourceRepository) -> RawRelease | None:
    if not isinstance(item, dict):
        return None
    tag = _text(item, "tag_name")
    if not tag:
        return None
    links = item.get("_links")
    url = links.get("self") if isinstance(links, dict) else None
    return RawRelease(
        tag=tag,
        name=_text(item, "name"),
        url=_link(url if isinstance(url, str) else "", source, tag),
        body=_text(item, "description"),
        published=_when(_text(item, "released_at")),
    )
