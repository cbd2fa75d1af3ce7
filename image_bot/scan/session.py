"""One registry's HTTP session: connection pool, concurrency limit, auth, pacing, retries.

Each request goes through `transport.exchange` (total deadline, body size cap, redirects
by hand); its failures and the retryable statuses are retried here, the others become
RegistryError subclasses at once. Only RegistryError subclasses leave the scan adapter.
"""

from __future__ import annotations

import asyncio
import random
import ssl
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

import httpx

from image_bot.errors import RegistryAuthError, RegistryError, RegistryUnavailable
from image_bot.scan.auth import (
    Challenge,
    TokenCache,
    basic_header,
    pick_challenge,
    repository_scope,
)
from image_bot.scan.dockerconfig import Credentials
from image_bot.scan.hosts import Endpoint
from image_bot.scan.pacing import Pacer, Sleep, parse_retry_after
from image_bot.scan.readability import install as install_readability
from image_bot.scan.tokens import RETRY_STATUS, BearerTokens
from image_bot.scan.transport import ExchangeFailed, describe, exchange

__all__ = ["Bounds", "RegistrySession"]

_USER_AGENT = "image-bot"
_MiB = 1 << 20

CredentialSource = Callable[[], Awaitable[Credentials | None]]


@dataclass(frozen=True, slots=True)
class Bounds:
    """The largest answer read per kind of request (the time bound is the registry's
    `timeout`); see docs/registries.md."""

    tags: int = 16 * _MiB  # one page of a tag list
    manifest: int = 4 * _MiB  # distribution refuses manifests over 4 MiB too
    blob: int = 8 * _MiB  # an image config blob
    token: int = 1 * _MiB  # a token endpoint's answer


class RegistrySession:
    """Sends requests to one registry endpoint, authenticating and retrying as needed."""

    def __init__(
        self,
        endpoint: Endpoint,
        credentials: CredentialSource,
        *,
        requests: Counter[str],
        tokens: TokenCache,
        timeout: float,
        retries: int,
        backoff: float,
        max_retry_after: float,
        transport: httpx.AsyncBaseTransport | None,
        sleep: Sleep,
        verify: ssl.SSLContext | bool = True,
        bounds: Bounds | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.host = endpoint.host
        self.bounds = bounds or Bounds()
        self._credentials = credentials
        self._requests = requests
        self._tokens = tokens
        self._retries = retries
        self._backoff = backoff
        self._max_retry_after = max_retry_after
        self._sleep = sleep
        self._semaphore = asyncio.Semaphore(endpoint.settings.concurrency)
        self.pacer = Pacer(
            endpoint.host, reserve=max(10, endpoint.settings.concurrency), sleep=sleep
        )
        limits = httpx.Limits(
            max_connections=endpoint.settings.concurrency,
            max_keepalive_connections=endpoint.settings.concurrency,
        )
        headers = {"User-Agent": _USER_AGENT}
        # Redirects are followed by `transport.exchange`, which keeps Authorization on its
        # origin and never reads a redirect's body.
        timeout = min(timeout, endpoint.settings.timeout)  # per read, within the whole
        self._client = httpx.AsyncClient(
            base_url=endpoint.base_url,
            limits=limits,
            timeout=timeout,
            transport=transport,
            verify=verify,
            headers=headers,
            follow_redirects=False,
        )
        self._auth_client = httpx.AsyncClient(
            timeout=timeout,
            transport=transport,
            verify=verify,
            headers=headers,
            follow_redirects=False,
        )
        for client in (self._client, self._auth_client):
            install_readability(client)  # cheaper idle-connection checks (readability.py)
        self._endpoint_key = str(endpoint.base_url)
        self._challenge: Challenge | None = tokens.challenge(self._endpoint_key)
        self._bearer = BearerTokens(
            self.host,
            self._auth_client,
            tokens,
            send=self._send_token_request,
            check_allowed=self._check_allowed,
        )

    @property
    def auth_client(self) -> httpx.AsyncClient:
        """The client for token endpoints (no base URL, no redirects)."""
        return self._auth_client

    def _image(self, repository: str) -> str:
        return f"{self.host}/{repository}"

    async def aclose(self) -> None:
        await self._client.aclose()
        await self._auth_client.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        repository: str,
        max_bytes: int,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Send with auth, pacing and retries; the answer's body is read, at most `max_bytes`.

        401/403 become RegistryAuthError, failures that retrying cannot fix RegistryError.
        """
        async with self._semaphore:
            for attempt in range(self._retries + 1):
                try:
                    response = await self._attempt(
                        method, path, repository, headers or {}, max_bytes
                    )
                except ExchangeFailed as failure:  # only the transient ones get here
                    if attempt == self._retries:
                        raise RegistryUnavailable(
                            self.host,
                            f"{failure.reason} (gave up after {attempt + 1} attempts)",
                            image=self._image(repository),
                            retry_after=failure.retry_after,
                        ) from None
                    await self._wait_before_retry(failure, attempt, repository)
                else:
                    return response
        raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover

    async def _attempt(
        self,
        method: str,
        path: str,
        repository: str,
        headers: Mapping[str, str],
        max_bytes: int,
    ) -> httpx.Response:
        await self.pacer.wait(repository)
        response = await self._authenticated(method, path, repository, headers, max_bytes)
        if response.status_code in RETRY_STATUS:
            retry_after = parse_retry_after(response.headers)
            raise ExchangeFailed(
                f"HTTP {response.status_code}", transient=True, retry_after=retry_after
            )
        return response

    async def _wait_before_retry(
        self, failure: ExchangeFailed, attempt: int, repository: str
    ) -> None:
        if failure.retry_after is not None and failure.retry_after > self._max_retry_after:
            raise RegistryUnavailable(
                self.host,
                f"{failure.reason}: asked to retry after {failure.retry_after:.0f}s",
                image=self._image(repository),
                retry_after=failure.retry_after,
            )
        if failure.retry_after is not None:
            delay = failure.retry_after
        else:
            delay = self._backoff * 2**attempt * (0.5 + random.random() / 2)  # noqa: S311 (jitter)
        await self._sleep(delay)

    def _failure(self, failure: ExchangeFailed, repository: str) -> RegistryError:
        reason = failure.reason
        if failure.plain_http:
            reason += (
                "; write the mirror as http://..."
                if self.endpoint.settings.mirror is not None
                else "; set `insecure: true` for this registry (or pass --insecure)"
            )
        return RegistryError(self.host, reason, image=self._image(repository))

    async def _send(
        self,
        client: httpx.AsyncClient,
        request: httpx.Request,
        repository: str,
        max_bytes: int,
        *,
        follow_redirects: bool = True,
    ) -> httpx.Response:
        self._requests[self.host] += 1
        try:
            response = await exchange(
                client,
                request,
                deadline=self.endpoint.settings.timeout,
                max_bytes=max_bytes,
                follow_redirects=follow_redirects,
            )
        except ExchangeFailed as failure:
            if failure.transient:
                raise
            raise self._failure(failure, repository) from None
        self.pacer.observe(response.headers)
        return response

    async def _send_token_request(self, request: httpx.Request, repository: str) -> httpx.Response:
        return await self._send(
            self._auth_client, request, repository, self.bounds.token, follow_redirects=False
        )

    def _build(
        self,
        client: httpx.AsyncClient,
        method: str,
        url: str | httpx.URL,
        repository: str,
        headers: Mapping[str, str],
    ) -> httpx.Request:
        try:
            return client.build_request(method, url, headers=headers)
        except httpx.InvalidURL as error:
            raise RegistryError(self.host, describe(error), image=self._image(repository)) from None

    async def _authenticated(
        self,
        method: str,
        path: str,
        repository: str,
        headers: Mapping[str, str],
        max_bytes: int,
    ) -> httpx.Response:
        request = self._build(self._client, method, path, repository, headers)
        sent_auth = await self._authorization(self._challenge, repository, None)
        if sent_auth:
            request.headers["Authorization"] = sent_auth
        response = await self._send(self._client, request, repository, max_bytes)
        if response.status_code == 401:
            challenge = self._pick(response, repository)
            if sent_auth and challenge.scheme == "basic":
                raise RegistryAuthError(
                    self.host, "credentials rejected (HTTP 401)", image=self._image(repository)
                )
            self._challenge = challenge
            self._tokens.learn_challenge(self._endpoint_key, challenge)
            # A rejected cached token (expired early, wrong scope) is replaced, not reused.
            retry_auth = await self._authorization(
                challenge, repository, challenge.params.get("scope"), rejected=sent_auth
            )
            if retry_auth is None:
                raise RegistryAuthError(
                    self.host,
                    "authentication required and no credentials are configured",
                    image=self._image(repository),
                )
            request.headers["Authorization"] = retry_auth
            response = await self._send(self._client, request, repository, max_bytes)
            if response.status_code == 401:
                error = (
                    self._pick(response, repository).params.get("error") or "credentials rejected"
                )
                if error == "insufficient_scope":
                    error += " (the repository does not exist, or these credentials cannot read it)"
                raise RegistryAuthError(
                    self.host,
                    f"access denied: {error[:200]} (HTTP 401)",
                    image=self._image(repository),
                )
        if response.status_code == 403:
            raise RegistryAuthError(
                self.host, "access denied (HTTP 403)", image=self._image(repository)
            )
        return response

    def _pick(self, response: httpx.Response, repository: str) -> Challenge:
        challenge = pick_challenge(response.headers.get_list("www-authenticate"))
        if challenge is None:
            raise RegistryAuthError(
                self.host,
                "HTTP 401 without a challenge we support (Basic, Bearer)",
                image=self._image(repository),
            )
        return challenge

    def _check_allowed(self, url: httpx.URL, what: str, repository: str) -> None:
        why = self.endpoint.refusal(url)
        if why is not None:
            raise RegistryAuthError(
                self.host,
                f"refusing to send credentials to {what}: {why}",
                image=self._image(repository),
            )

    async def _authorization(
        self,
        challenge: Challenge | None,
        repository: str,
        scope: str | None,
        *,
        rejected: str | None = None,
    ) -> str | None:
        """The Authorization value for the next request, or None to go anonymous."""
        if challenge is None:
            return None
        credentials = await self._credentials()
        if challenge.scheme == "basic":
            if credentials is None or credentials.password is None or credentials.username is None:
                return None
            self._check_allowed(self._client.base_url, "the registry", repository)
            return basic_header(credentials.username, credentials.password)
        scope = scope or repository_scope(repository)
        token = await self._bearer.token(
            challenge, scope, credentials, repository, rejected=rejected
        )
        return f"Bearer {token}"
