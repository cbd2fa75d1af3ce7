"""The registry adapter's boundary is total: every failure a server can provoke, sent by a
real (hostile) HTTP server over real sockets, fails only its own image as a RegistryError,
while a healthy image on the real docker-registry in the same scan is listed as usual."""

from __future__ import annotations

import contextlib
import gzip
from collections.abc import Iterator
from pathlib import Path

import pytest

from image_bot.errors import RegistryAuthError, RegistryError, RegistryUnavailable
from image_bot.model import Fact, ImageName, ScanFailure, TagList
from image_bot.scan.hosts import RegistrySettings
from image_bot.scan.oci import OCIRegistry
from image_bot.scan.scanner import scan
from tests.support.hostile import (
    Behaviour,
    HostileServer,
    after_basic_challenge,
    answer,
    endless,
    huge,
    json_answer,
    raw,
    redirect,
    trickle,
)
from tests.support.registry import RunningRegistry

pytestmark = pytest.mark.integration

USER, PASSWORD = "bot", "hostile-test-pass-0451"
NESTED = b'{"tags": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
GZIP_BOMB = gzip.compress(b"\0" * (64 << 20), compresslevel=9)  # 64 MiB in ~64 KiB


@pytest.fixture
def hostile() -> Iterator[HostileServer]:
    with HostileServer() as server:
        yield server


@pytest.fixture
def elsewhere() -> Iterator[HostileServer]:
    """Another host (127.0.0.2): credentials for the hostile registry must never reach it."""
    with HostileServer("127.0.0.2") as server:
        server.route("/", json_answer({"tags": ["9.9.9"], "token": "t0ken-from-elsewhere"}))
        yield server


def bearer(realm: str) -> Behaviour:
    return answer(401, b"", {"WWW-Authenticate": f'Bearer realm="{realm}",service="s"'})


def tags_failures(hostile: HostileServer) -> dict[str, str]:
    """Route one repository per fault of the transport and the tag list; returns
    repository -> what its error must say."""
    cases: dict[str, tuple[Behaviour, str]] = {
        "not-json": (answer(200, b"<html>hello</html>"), "not readable JSON"),
        "not-utf8": (answer(200, b'{"tags": ["\xff\xfe"]}'), "not readable JSON"),
        "nested": (answer(200, NESTED), "nested more than 64 levels"),
        "no-array": (json_answer({"tags": "1.0"}), "no tags array"),
        "huge": (huge(50 << 20), "larger than 16 MiB"),
        "endless": (endless(), "larger than 16 MiB"),
        "gzip-bomb": (answer(200, GZIP_BOMB, {"Content-Encoding": "gzip"}), "larger than 16"),
        "bad-gzip": (answer(200, b"plain", {"Content-Encoding": "gzip"}), "DecodingError"),
        "trickle": (trickle(b'{"tags": ["1.0.0"]}' * 20, every=0.05), "no complete answer"),
        "garbage-status": (raw(b"HTTP/1.1 abc\r\n\r\n"), "gave up after 2 attempts"),
        "cut-body": (raw(b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n{"), "gave up after"),
        "hang-up": (raw(b""), "gave up after"),
        "teapot": (answer(418), "HTTP 418"),
        "redirect-loop": (redirect("/v2/h/redirect-loop/tags/list"), "more than 5 redirects"),
        "redirect-ftp": (redirect("ftp://files.example/tags"), "unusable URL"),
        "bad-link": (
            json_answer({"tags": ["1.0"]}, headers={"Link": '<http://[::1>; rel="next"'}),
            "is not a URL",
        ),
        "unicode-retry-after": (answer(503, b"", {"Retry-After": "\xb2"}), "HTTP 503"),
    }
    for name, (behaviour, _) in cases.items():
        hostile.route(f"/v2/h/{name}/", behaviour)
    return {name: why for name, (_, why) in cases.items()}


def auth_failures(elsewhere: HostileServer) -> dict[str, tuple[Behaviour, str]]:
    """Faults of the auth flow, each for a registry host of its own (a challenge is
    remembered per host); every one of these hosts has credentials configured."""
    return {
        "no-challenge": (
            answer(401, b"", {"WWW-Authenticate": "Negotiate"}),
            "without a challenge we support",
        ),
        "garbage-challenge": (answer(401, b"", {"WWW-Authenticate": '",,=="'}), "challenge"),
        "realm-elsewhere": (bearer(f"{elsewhere.url}/token"), "add it to token_realms"),
        "realm-not-url": (bearer("ht tp://\x01"), "is not an http(s) URL"),
        "realm-ftp": (bearer("ftp://127.0.0.1/token"), "is not an http(s) URL"),
        # these four are pointed at a realm on their own server by `auth_servers`
        "token-not-json": (answer(), "sent no token"),
        "token-nested": (answer(), "sent no token"),
        "token-newline": (answer(), "sent no token"),
        "token-endless": (answer(), "larger than 1 MiB"),
    }


TOKEN_ANSWERS: dict[str, Behaviour] = {
    "token-not-json": answer(200, b"token=abc"),
    "token-nested": answer(200, b'{"token": ' + b"[" * 5000 + b"]" * 5000 + b"}"),
    "token-newline": json_answer({"token": "abc\r\nX-Evil: 1"}),
    "token-endless": endless(b'{"token": "'),
}


@pytest.fixture
def auth_servers(elsewhere: HostileServer) -> Iterator[dict[str, tuple[HostileServer, str]]]:
    with contextlib.ExitStack() as stack:
        servers = {}
        for name, (behaviour, why) in auth_failures(elsewhere).items():
            server = stack.enter_context(HostileServer())
            challenge = behaviour
            if name in TOKEN_ANSWERS:  # the realm is on the server itself
                challenge = bearer(f"{server.url}/token")
                server.route("/token", TOKEN_ANSWERS[name])
            server.route("/v2/", challenge)
            servers[name] = (server, why)
        yield servers


def client(tmp_path: Path, registry: RunningRegistry, *hostile: HostileServer) -> OCIRegistry:
    return OCIRegistry(
        [
            RegistrySettings(registry.host, insecure=True),
            *(
                RegistrySettings(
                    server.host, insecure=True, username=USER, password=PASSWORD, timeout=3.0
                )
                for server in hostile
            ),
        ],
        docker_config=tmp_path / "none.json",
        retries=1,
        backoff=0.01,
    )


def check_failure(result: TagList | ScanFailure, name: str, why: str) -> RegistryError:
    assert isinstance(result, ScanFailure), name
    assert isinstance(result.error, RegistryError)
    assert why in result.error.message, (name, result.error.message)
    assert result.error.message.isprintable(), result.error.message
    assert PASSWORD not in result.error.message
    return result.error


async def test_every_fault_fails_only_its_own_image(  # noqa: PLR0917 (fixtures)
    hostile: HostileServer,
    elsewhere: HostileServer,
    auth_servers: dict[str, tuple[HostileServer, str]],
    registry: RunningRegistry,
    repo_name: str,
    tmp_path: Path,
) -> None:
    registry.push_tags(repo_name, ["1.0.0", "1.1.0"])
    expected = tags_failures(hostile)
    healthy = ImageName(registry.host, repo_name)
    faulty = {ImageName(hostile.host, f"h/{name}"): (name, why) for name, why in expected.items()}
    faulty |= {ImageName(server.host, "h/app"): (name, why)
               for name, (server, why) in auth_servers.items()}  # fmt: skip
    servers = [server for server, _ in auth_servers.values()]
    async with client(tmp_path, registry, hostile, *servers) as opened:
        results = await scan(opened, [healthy, *faulty])
    listed = results[healthy]
    assert isinstance(listed, TagList)
    assert sorted(listed.tags) == ["1.0.0", "1.1.0"]
    errors = {name: check_failure(results[image], name, why)
              for image, (name, why) in faulty.items()}  # fmt: skip
    assert isinstance(errors["realm-elsewhere"], RegistryAuthError)
    assert "insecure" not in errors["realm-elsewhere"].message  # it is already: name the rule
    assert elsewhere.requests == []  # no token request, no credentials: nothing went there


async def test_invalid_tags_are_dropped_and_counted(
    hostile: HostileServer, registry: RunningRegistry, tmp_path: Path
) -> None:
    bad = ["zz\nimage: evil", "\x00", "a b", ".dot", "-dash", "x" * 129, "ü", 5, None, {}]
    hostile.route("/v2/h/mixed/tags/list", json_answer({"tags": ["1.0.0", *bad, "1.1.0"]}))
    async with client(tmp_path, registry, hostile) as opened:
        listed = await opened.list_tags(ImageName(hostile.host, "h/mixed"))
        warnings = list(opened.warnings)
    assert listed.tags == ("1.0.0", "1.1.0")
    (warning,) = warnings
    assert f"dropped {len(bad)} tag(s) that are not valid tag names" in warning
    assert "\n" not in warning
    assert "'zz\\nimage: evil'" in warning


async def test_a_redirect_elsewhere_keeps_the_credentials_home(
    hostile: HostileServer,
    elsewhere: HostileServer,
    registry: RunningRegistry,
    tmp_path: Path,
) -> None:
    hostile.route(
        "/v2/h/away/tags/list",
        after_basic_challenge(redirect(f"{elsewhere.url}/tags.json", status=307)),
    )
    async with client(tmp_path, registry, hostile) as opened:
        listed = await opened.list_tags(ImageName(hostile.host, "h/away"))
    assert listed.tags == ("9.9.9",)
    assert hostile.seen("/v2/h/away")[-1].headers["authorization"].startswith("Basic ")
    (arrived,) = elsewhere.requests
    assert "authorization" not in arrived.headers


def manifest_faults(hostile: HostileServer) -> dict[str, str]:
    """Faults in the manifest and config blob answers; tag -> what the error must say."""
    config_digest = "sha256:" + "ab" * 32
    image = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"digest": config_digest},
    }
    cases: dict[str, tuple[Behaviour, str]] = {
        "evil-digest": (
            answer(200, b"", {"Docker-Content-Digest": 'sha256:abc" # evil'}),
            "is not a digest",
        ),
        "nested": (answer(200, b"[" * 100_000 + b"]" * 100_000), "nested more than 64"),
        "huge": (huge(20 << 20, prefix=b"{"), "larger than 4 MiB"),
        "schema1": (json_answer({"schemaVersion": 1}), "unsupported manifest type"),
        "blob-mismatch": (json_answer(image), "does not match"),
    }
    for tag, (behaviour, _) in cases.items():
        hostile.route(f"/v2/h/facts/manifests/{tag}", behaviour)
    hostile.route(f"/v2/h/facts/blobs/{config_digest}", json_answer({"created": "9999-12-31"}))
    return {tag: why for tag, (_, why) in cases.items()}


async def test_manifest_and_blob_faults_fail_the_facts_alone(
    hostile: HostileServer, registry: RunningRegistry, tmp_path: Path
) -> None:
    expected = manifest_faults(hostile)
    name = ImageName(hostile.host, "h/facts")
    async with client(tmp_path, registry, hostile) as opened:
        for tag, why in expected.items():
            wanted = {Fact.DIGEST} if tag == "evil-digest" else {Fact.DIGEST, Fact.CREATED}
            with pytest.raises(RegistryError, match=why):
                await opened.facts(name, tag, wanted)
        with pytest.raises(RegistryError, match="not a valid tag"):
            await opened.facts(name, "zz\nimage: evil", {Fact.DIGEST})


async def test_a_5000_digit_rate_limit_header_is_ignored(
    hostile: HostileServer, registry: RunningRegistry, tmp_path: Path
) -> None:
    headers = {"RateLimit-Remaining": "9" * 5000, "RateLimit-Limit": "1" * 5000}
    hostile.route("/v2/h/quota/tags/list", json_answer({"tags": ["1.0"]}, headers=headers))
    async with client(tmp_path, registry, hostile) as opened:
        assert (await opened.list_tags(ImageName(hostile.host, "h/quota"))).tags == ("1.0",)


async def test_an_unreadable_retry_after_is_retried_not_raised(
    hostile: HostileServer, registry: RunningRegistry, tmp_path: Path
) -> None:
    hostile.route("/v2/h/busy/tags/list", answer(429, b"", {"Retry-After": "\xb2"}))
    async with client(tmp_path, registry, hostile) as opened:
        with pytest.raises(RegistryUnavailable, match="gave up after 2 attempts"):
            await opened.list_tags(ImageName(hostile.host, "h/busy"))
    assert len(hostile.seen("/v2/h/busy")) == 2
