"""Retries, Retry-After, dropped connections and rate limits, injected by a small HTTP proxy
in front of a real docker-registry; and the failures no retry can fix (plain http met with
https, an untrusted certificate, a 4xx answer), which fail at once."""

from __future__ import annotations

import asyncio
import http.client
import http.server
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from image_bot.errors import RegistryError, RegistryUnavailable
from image_bot.model import ImageName, ScanFailure, TagList
from image_bot.scan.hosts import RegistrySettings
from image_bot.scan.oci import OCIRegistry
from image_bot.scan.scanner import scan
from tests.support.registry import RunningRegistry
from tests.support.tls import serve_https

pytestmark = pytest.mark.integration

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length"}


@dataclass
class FaultProxy:
    """Forwards to `upstream` (host:port); scripted faults answer first, in order.

    A fault is `(status, headers)` for a canned answer or `None` to drop the connection.
    `extra_headers` are added to every forwarded answer. `requests` counts what arrived.
    """

    upstream: str
    faults: list[tuple[int, dict[str, str]] | None] = field(default_factory=list)
    extra_headers: dict[str, str] = field(default_factory=dict)
    requests: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.host = f"127.0.0.1:{self._httpd.server_address[1]}"
        threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True).start()

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def _handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: object) -> None:
                """Quiet."""

            def do_GET(self) -> None:
                with proxy._lock:
                    proxy.requests += 1
                    fault = proxy.faults.pop(0) if proxy.faults else ()
                if fault is None:
                    self.close_connection = True
                    self.connection.shutdown(2)  # drop: no status line at all
                    return
                if fault:
                    status, headers = fault
                    self.send_response(status)
                    for name, value in {**headers, "Content-Length": "0"}.items():
                        self.send_header(name, value)
                    self.end_headers()
                    return
                self._forward()

            do_HEAD = do_GET  # noqa: N815 (http.server names handlers so)

            def _forward(self) -> None:
                upstream = http.client.HTTPConnection(proxy.upstream, timeout=10)
                names = ("Accept", "Authorization")
                headers = {n: self.headers[n] for n in names if self.headers[n]}
                upstream.request(self.command, self.path, headers=headers)
                answer = upstream.getresponse()
                body = answer.read()
                self.send_response(answer.status)
                for name, value in answer.getheaders():
                    if name.lower() not in _HOP_BY_HOP:
                        self.send_header(name, value)
                for name, value in proxy.extra_headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)
                upstream.close()

        return Handler


@pytest.fixture
def proxy(registry: RunningRegistry) -> Iterator[FaultProxy]:
    running = FaultProxy(registry.host)
    yield running
    running.close()


@pytest.fixture
def https_server(tmp_path: Path) -> Iterator[str]:
    """An https server whose self-signed certificate nobody trusts; its host:port."""
    with serve_https(http.server.BaseHTTPRequestHandler, tmp_path) as (host, _):
        yield host


class RealSleeps(list[float]):
    """Sleeps for real and remembers how long it was asked to."""

    async def __call__(self, seconds: float) -> None:
        self.append(seconds)
        await asyncio.sleep(seconds)


def _client(*hosts: str, tmp: Path, sleeps: RealSleeps, retries: int = 4) -> OCIRegistry:
    return OCIRegistry(
        [RegistrySettings(host, insecure=True) for host in hosts],
        docker_config=tmp / "none.json",
        retries=retries,
        backoff=0.05,
        sleep=sleeps,
    )


async def test_retries_through_503_dropped_connection_and_429(
    proxy: FaultProxy, registry: RunningRegistry, repo_name: str, tmp_path: Path
) -> None:
    registry.push_tags(repo_name, ["1.0", "1.1"])
    proxy.faults = [(503, {"Retry-After": "0"}), None, (429, {"Retry-After": "1"})]
    sleeps = RealSleeps()
    async with _client(proxy.host, tmp=tmp_path, sleeps=sleeps) as client:
        listed = await client.list_tags(ImageName(proxy.host, repo_name))
        assert client.requests[proxy.host] == 4
    assert sorted(listed.tags) == ["1.0", "1.1"]
    assert proxy.requests == 4
    assert sleeps[0] == 0.0  # Retry-After: 0
    assert 0.025 <= sleeps[1] <= 0.1  # backoff with jitter after the dropped connection
    assert sleeps[2] == 1.0  # Retry-After: 1


async def test_a_registry_that_keeps_failing_fails_only_its_images(
    proxy: FaultProxy, registry: RunningRegistry, repo_name: str, tmp_path: Path
) -> None:
    registry.push_tags(repo_name, ["1.0"])
    proxy.faults = [(503, {})] * 3
    sleeps = RealSleeps()
    flaky, direct = ImageName(proxy.host, repo_name), ImageName(registry.host, repo_name)
    async with _client(proxy.host, registry.host, tmp=tmp_path, sleeps=sleeps, retries=2) as client:
        result = await scan(client, [flaky, direct])
    assert isinstance(result[direct], TagList)
    failure = result[flaky]
    assert isinstance(failure, ScanFailure)
    assert isinstance(failure.error, RegistryUnavailable)
    assert "HTTP 503" in str(failure.error)
    assert proxy.host in str(failure.error)
    assert proxy.requests == 3


async def test_an_exhausted_rate_limit_stops_before_the_wall(
    proxy: FaultProxy, registry: RunningRegistry, repo_name: str, tmp_path: Path
) -> None:
    registry.push_tags(repo_name, ["1.0"])
    proxy.extra_headers = {"RateLimit-Limit": "100;w=21600", "RateLimit-Remaining": "0;w=21600"}
    sleeps = RealSleeps()
    image = ImageName(proxy.host, repo_name)
    async with _client(proxy.host, tmp=tmp_path, sleeps=sleeps) as client:
        assert (await client.list_tags(image)).tags == ("1.0",)
        with pytest.raises(RegistryUnavailable, match="rate limit") as caught:
            await client.list_tags(image)
    assert proxy.requests == 1  # the second listing was never sent
    assert caught.value.retry_after == 21600


async def test_plain_http_and_untrusted_certificates_are_not_retried(
    registry: RunningRegistry, repo_name: str, tmp_path: Path, https_server: str
) -> None:
    registry.push_tags(repo_name, ["1.0"])
    sleeps = RealSleeps()
    plain, untrusted = ImageName(registry.host, repo_name), ImageName(https_server, "team/app")
    async with OCIRegistry(docker_config=tmp_path / "none.json", sleep=sleeps) as client:
        result = await scan(client, [plain, untrusted])
        assert client.requests == {registry.host: 1, https_server: 1}
    assert sleeps == []
    errors = {name: failure.error.message for name, failure in result.items()
              if isinstance(failure, ScanFailure)}  # fmt: skip
    assert "plain http; set `insecure: true` for this registry" in errors[plain]
    assert "TLS certificate not trusted" in errors[untrusted]


async def test_answers_that_stay_are_not_retried_408_is(
    proxy: FaultProxy, registry: RunningRegistry, repo_name: str, tmp_path: Path
) -> None:
    registry.push_tags(repo_name, ["1.0"])
    proxy.faults = [(408, {}), (400, {})]
    sleeps = RealSleeps()
    async with _client(proxy.host, tmp=tmp_path, sleeps=sleeps) as client:
        with pytest.raises(RegistryError, match="HTTP 400"):
            await client.list_tags(ImageName(proxy.host, repo_name))
    assert proxy.requests == 2  # 408 came back once; the 400 is the registry's answer
    assert len(sleeps) == 1
