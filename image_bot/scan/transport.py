"""One bounded HTTP exchange with a registry: a total deadline, a body size cap, redirects.

httpx's `timeout` bounds each read, so a server that trickles a byte every few seconds
would hold a request forever, and `Response.read()` keeps whatever a server sends. Here a
whole exchange (redirects and body included) has a deadline, and a body stops at a size.
Redirects are followed by hand so that a redirect's own body is never read and the
`Authorization` header never leaves its origin.

Every failure becomes `ExchangeFailed`, which says whether retrying may help: connection
trouble may pass; a TLS handshake with a plain-http server, a bad certificate, an overlong
or endless body, or a blown deadline will not.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterator

import httpx

__all__ = ["ExchangeFailed", "describe", "exchange"]

MAX_REDIRECTS = 5
ERROR_BODY_BYTES = 64 * 1024  # an error answer is read only for its message
_TRANSIENT_ERRORS = (
    httpx.TimeoutException,
    httpx.NetworkError,
    httpx.RemoteProtocolError,
    httpx.ProxyError,
)
# OpenSSL's reasons when the server answered a TLS ClientHello in plain http.
_PLAIN_HTTP_REASONS = frozenset(
    {"WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "PACKET_LENGTH_TOO_LONG", "HTTP_REQUEST"}
)
_DROPPED_HEADERS = ("content-encoding", "content-length", "transfer-encoding")


class ExchangeFailed(Exception):
    """No usable answer. `transient`: retrying may help; `plain_http`: https met http."""

    def __init__(
        self,
        reason: str,
        *,
        transient: bool,
        retry_after: float | None = None,
        plain_http: bool = False,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.transient = transient
        self.retry_after = retry_after
        self.plain_http = plain_http


def describe(error: BaseException) -> str:
    """`Type: message` of an exception (the type alone when it has no message)."""
    detail = str(error) or type(error).__name__
    return f"{type(error).__name__}: {detail}"


def _causes(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _tls_failure(error: httpx.HTTPError, netloc: str) -> ExchangeFailed | None:
    """A TLS failure that no retry can fix (EOFs in the handshake may pass: None)."""
    for cause in _causes(error):
        if isinstance(cause, ssl.SSLEOFError | ssl.SSLZeroReturnError):
            return None
        if isinstance(cause, ssl.SSLCertVerificationError):
            why = cause.verify_message or cause.reason or "verification failed"
            return ExchangeFailed(f"{netloc}: TLS certificate not trusted ({why})", transient=False)
        if isinstance(cause, ssl.SSLError):
            if cause.reason in _PLAIN_HTTP_REASONS:
                return ExchangeFailed(
                    f"{netloc} answered the TLS handshake in plain http",
                    transient=False,
                    plain_http=True,
                )
            return ExchangeFailed(
                f"{netloc}: TLS handshake failed ({cause.reason or cause})", transient=False
            )
    return None


def _mib(size: int) -> str:
    return f"{size / (1 << 20):g} MiB" if size >= 1 << 20 else f"{size // 1024} KiB"


async def _read_bounded(response: httpx.Response, limit: int) -> bytes:
    """The decoded body, at most `limit` bytes; an error answer is cut, a success refused."""
    cut = min(limit, ERROR_BODY_BYTES) if response.status_code >= 400 else None
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if cut is not None and size >= cut:
            chunks.append(chunk[: len(chunk) - (size - cut)])
            break
        if size > limit:
            raise ExchangeFailed(
                f"the answer to {response.request.method} {response.request.url.path} is"
                f" larger than {_mib(limit)}; refused",
                transient=False,
            )
        chunks.append(chunk)
    return b"".join(chunks)


def _redirected(client: httpx.AsyncClient, response: httpx.Response) -> httpx.Request:
    """The request a redirect asks for; `Authorization` stays with its origin."""
    request = response.request
    url = request.url.join(response.headers["location"])
    if url.scheme not in ("http", "https") or not url.host:
        raise ExchangeFailed(f"redirect to an unusable URL {str(url)[:200]!r}", transient=False)
    method = request.method
    if (response.status_code == 303 and method != "HEAD") or (
        response.status_code in (301, 302) and method == "POST"
    ):
        method = "GET"
    headers = request.headers.copy()
    for name in ("host", "content-length", "content-type"):
        headers.pop(name, None)
    if (url.scheme, url.host, url.port) != (request.url.scheme, request.url.host, request.url.port):
        headers.pop("authorization", None)
    body = request.content if method == request.method else None
    return client.build_request(method, url, headers=headers, content=body)


async def _exchange(
    client: httpx.AsyncClient, request: httpx.Request, *, max_bytes: int, follow_redirects: bool
) -> httpx.Response:
    for _ in range(MAX_REDIRECTS + 1):
        response = await client.send(request, stream=True)
        try:
            if follow_redirects and response.has_redirect_location:
                request = _redirected(client, response)
                continue
            body = await _read_bounded(response, max_bytes)
        finally:
            await response.aclose()
        headers = response.headers.copy()
        for name in _DROPPED_HEADERS:  # the body is decoded and complete
            headers.pop(name, None)
        return httpx.Response(
            response.status_code, headers=headers, content=body, request=response.request
        )
    raise ExchangeFailed(f"more than {MAX_REDIRECTS} redirects", transient=False)


async def exchange(
    client: httpx.AsyncClient,
    request: httpx.Request,
    *,
    deadline: float,
    max_bytes: int,
    follow_redirects: bool = True,
) -> httpx.Response:
    """Send `request` and read the answer whole within `deadline` seconds and `max_bytes`.

    The returned response holds its (decoded) body. Raises ExchangeFailed only.
    """
    netloc = request.url.netloc.decode("ascii", "replace")
    try:
        async with asyncio.timeout(deadline):
            return await _exchange(
                client, request, max_bytes=max_bytes, follow_redirects=follow_redirects
            )
    except TimeoutError:
        raise ExchangeFailed(
            f"{netloc}: no complete answer within {deadline:g} s (too slow, or trickling)",
            transient=False,
        ) from None
    except _TRANSIENT_ERRORS as error:
        tls = _tls_failure(error, netloc)
        if tls is not None:
            raise tls from None
        raise ExchangeFailed(f"{netloc}: {describe(error)}", transient=True) from None
    except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError) as error:
        raise ExchangeFailed(f"{netloc}: {describe(error)}", transient=False) from None
