"""The Bearer token exchange of one registry: the realm checked, one exchange per key at a
time, tokens cached (`auth.TokenCache`) until shortly before they expire."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import httpx

from image_bot.errors import RegistryAuthError, RegistryError
from image_bot.json_input import load_json
from image_bot.scan.auth import Challenge, TokenCache, parse_token_response, token_request
from image_bot.scan.dockerconfig import Credentials
from image_bot.scan.pacing import parse_retry_after
from image_bot.scan.transport import ExchangeFailed, describe

__all__ = ["BearerTokens"]

# 408 and 429 ask to come back; 5xx may pass. Every other status is an answer that stays.
RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})

Send = Callable[[httpx.Request, str], Awaitable[httpx.Response]]  # (request, repository)
CheckAllowed = Callable[[httpx.URL, str, str], None]  # (url, what, repository); raises


class BearerTokens:
    """Tokens for one registry's `Bearer` challenges, fetched with `send`."""

    def __init__(
        self,
        host: str,
        client: httpx.AsyncClient,
        cache: TokenCache,
        *,
        send: Send,
        check_allowed: CheckAllowed,
    ) -> None:
        self.host = host
        self._client = client
        self._cache = cache
        self._send = send
        self._check_allowed = check_allowed
        self._locks: dict[tuple[str, str, str, str], asyncio.Lock] = {}

    def _error(self, kind: type[RegistryError], message: str, repository: str) -> RegistryError:
        return kind(self.host, message, image=f"{self.host}/{repository}")

    async def token(
        self,
        challenge: Challenge,
        scope: str,
        credentials: Credentials | None,
        repository: str,
        *,
        rejected: str | None,
    ) -> str:
        """A token for `scope`: cached unless it is the one just `rejected`, else fresh."""
        realm, service = challenge.params.get("realm"), challenge.params.get("service", "")
        if not realm:
            raise self._error(RegistryAuthError, "no realm in the Bearer challenge", repository)
        identity = (credentials.username or credentials.identity_token or "") if credentials else ""
        key = (realm, service, scope, identity)
        async with self._locks.setdefault(key, asyncio.Lock()):
            # one exchange per key at a time: concurrent requests wait and share its token
            cached = self._cache.get(key)
            if cached is not None and f"Bearer {cached}" != rejected:
                return cached
            token, expires_at = await self._exchange(realm, service, scope, credentials, repository)
            self._cache.put(key, token, expires_at)
            return token

    def _realm_url(self, realm: str, repository: str) -> httpx.URL:
        try:
            url = httpx.URL(realm)
        except httpx.InvalidURL:
            url = None
        if url is None or url.scheme not in ("http", "https") or not url.host:
            message = f"the token realm {realm[:200]!r} is not an http(s) URL"
            raise self._error(RegistryAuthError, message, repository)
        return url

    async def _exchange(
        self,
        realm: str,
        service: str,
        scope: str,
        credentials: Credentials | None,
        repository: str,
    ) -> tuple[str, float]:
        url = self._realm_url(realm, repository)
        if credentials is not None:
            self._check_allowed(url, f"token realm {url.host}", repository)
        try:
            request = token_request(self._client, url, service, scope, credentials)
        except httpx.InvalidURL as error:
            message = f"token request: {describe(error)}"
            raise self._error(RegistryAuthError, message, repository) from None
        response = await self._send(request, repository)
        status = response.status_code
        if status in RETRY_STATUS:
            retry_after = parse_retry_after(response.headers)
            raise ExchangeFailed(
                f"token server HTTP {status}", transient=True, retry_after=retry_after
            )
        if status in (400, 401, 403):
            who = "the credentials" if credentials is not None else "anonymous access"
            message = f"the token server at {url.host} refused {who} (HTTP {status})"
            raise self._error(RegistryAuthError, message, repository)
        try:
            body = load_json(response.content) if response.is_success else None
        except ValueError:
            body = None
        parsed = parse_token_response(body, now=self._cache.clock())
        if parsed is None:
            message = f"the token server at {url.host} sent no token (HTTP {status})"
            raise self._error(RegistryError, message, repository)
        return parsed
