"""The registry clients' TLS context reads its trust store at the first TLS handshake: a
pass over plain-http registries never reads it, and an https registry is verified against
it (`SSL_CERT_FILE` here, as httpx reads it)."""

from __future__ import annotations

import http.server
import json
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest

from image_bot.errors import RegistryError
from image_bot.model import ImageName
from image_bot.scan.hosts import RegistrySettings
from image_bot.scan.oci import OCIRegistry
from image_bot.scan.trust import DeferredTrustContext
from tests.support.registry import RunningRegistry
from tests.support.tls import serve_https

pytestmark = pytest.mark.integration


class _Tags(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps({"name": "team/app", "tags": ["1.0", "1.1"]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def tls_registry(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """An https server answering tag listings, and its certificate's file (host:port, PEM)."""
    with serve_https(_Tags, tmp_path) as served:
        yield served


async def test_plain_http_registries_never_read_the_trust_store(
    registry: RunningRegistry, repo_name: str, tmp_path: Path
) -> None:
    registry.push_tags(repo_name, ["1.0"])
    tls = DeferredTrustContext()
    settings = [RegistrySettings(registry.host, insecure=True)]
    async with OCIRegistry(settings, docker_config=tmp_path / "none.json", tls=tls) as client:
        listed = await client.list_tags(ImageName(registry.host, repo_name))
    assert listed.tags == ("1.0",)
    assert not tls.loaded
    assert tls.get_ca_certs() == []


async def test_an_https_registry_is_verified_against_the_trust_store_read_at_the_handshake(
    tls_registry: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    host, cert_file = tls_registry
    tls = DeferredTrustContext()
    monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))  # read at the handshake, not before
    async with OCIRegistry(docker_config=tmp_path / "none.json", tls=tls) as client:
        listed = await client.list_tags(ImageName(host, "team/app"))
    assert sorted(listed.tags) == ["1.0", "1.1"]
    assert tls.loaded
    assert tls.verify_mode is ssl.CERT_REQUIRED
    assert tls.check_hostname


async def test_a_certificate_outside_the_trust_store_still_fails(
    tls_registry: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    host, _ = tls_registry
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    async with OCIRegistry(docker_config=tmp_path / "none.json", retries=0) as client:
        with pytest.raises(RegistryError, match="TLS certificate not trusted"):
            await client.list_tags(ImageName(host, "team/app"))
