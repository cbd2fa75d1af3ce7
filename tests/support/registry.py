"""Real docker-registry processes on 127.0.0.1 (anonymous, basic and token auth).

Each registry is Debian's `docker-registry serve CONFIG` (distribution 2.8.2) on a free port
with its own storage directory, started once per test session and killed at the end.

Fixtures (registered as a pytest plugin by `tests/conftest.py`):

- `registry`: anonymous registry (`RunningRegistry`, `username`/`password` are None).
  Every session registry keeps an access log: `served(repo_name)` lists what it answered.
- `basic_registry`: htpasswd basic auth (`htpasswd -Bbn`); `username`/`password` are set.
- `token_registry`: Bearer token auth (the Docker Hub flow) backed by a `TokenServer` in a
  thread issuing ES256 JWTs (`iss`, string `aud`, `exp`, `access`, `kid` = libtrust
  fingerprint). Basic credentials are checked at the token endpoint; `.token_server` counts
  the token requests it answered.
- `repo_name`: a fresh repository name per test (`test/<test-name>-<n>`), so tests that share a
  session registry never see each other's tags.

Seeding writes the registry's storage layout directly (blobs, revision/tag/layer links), which
is ~20x faster than pushing through the API and needs no credentials:

    digest = registry.push_image("team/app", "1.2.3", platforms=("linux/amd64", "linux/arm64"),
                                 created=datetime(2024, 5, 1, tzinfo=UTC),
                                 labels={"org.opencontainers.image.revision": "abc"})
    registry.push_tags("team/app", [f"1.0.{i}" for i in range(5000)])

Everything here is plain functions and classes (`start_registry`, `Seeder`, `TokenServer`), so
scripts (`scripts/demo`, `benchmarks/scan.py`) can use it outside pytest:

    with start_registry(Path(tmp)) as reg:
        reg.push_tags("demo/app", ["1.0.0", "1.1.0"])
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import http.server
import itertools
import json
import os
import re
import shutil
import socket
import subprocess  # noqa: TID251 (tests start real registry processes)
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

__all__ = [
    "OCI_INDEX",
    "OCI_MANIFEST",
    "RunningRegistry",
    "Seeder",
    "ServedRequest",
    "TokenServer",
    "free_port",
    "libtrust_key_id",
    "start_registry",
]

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"

AuthMode = Literal["none", "basic", "token"]
_NOT_INSTALLED = "docker-registry is not installed (apt-get install docker-registry)"

# --- seeding: the filesystem layout of distribution's storage driver ------------------------


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _json_bytes(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":"), sort_keys=True).encode()


def _write_link(path: Path, hex_digest: str) -> None:
    path.mkdir(parents=True, exist_ok=True)
    (path / "link").write_text(f"sha256:{hex_digest}")


def _write_new_tag(tag_dir: str, link: bytes) -> None:
    """Create `tag_dir/current/link` with the fewest syscalls (bulk seeding is mkdir-bound).

    The tag's `index/` links are left out: distribution resolves and lists tags from
    `current/link` alone; the index only serves lookups of tags by digest and deletes.
    """
    os.mkdir(tag_dir)  # noqa: PTH102
    os.mkdir(f"{tag_dir}/current")  # noqa: PTH102
    descriptor = os.open(f"{tag_dir}/current/link", os.O_WRONLY | os.O_CREAT, 0o644)
    os.write(descriptor, link)
    os.close(descriptor)


class Seeder:
    """Writes images straight into a registry's storage root (no HTTP, no auth)."""

    def __init__(self, root: Path) -> None:
        self.v2 = root / "docker" / "registry" / "v2"
        self._written: set[str] = set()
        self._shared: dict[str, str] = {}  # repository -> hex digest of its bulk-tag manifest

    def blob(self, data: bytes) -> str:
        """Store `data` as a blob; returns its hex digest."""
        hex_digest = _sha256(data)
        if hex_digest not in self._written:
            directory = self.v2 / "blobs" / "sha256" / hex_digest[:2] / hex_digest
            directory.mkdir(parents=True, exist_ok=True)
            (directory / "data").write_bytes(data)
            self._written.add(hex_digest)
        return hex_digest

    def _repo(self, repository: str) -> Path:
        return self.v2 / "repositories" / repository

    def _link_layer(self, repository: str, hex_digest: str) -> None:
        _write_link(self._repo(repository) / "_layers" / "sha256" / hex_digest, hex_digest)

    def manifest(self, repository: str, body: bytes) -> str:
        """Store a manifest/index blob and its revision link; returns its hex digest."""
        hex_digest = self.blob(body)
        revisions = self._repo(repository) / "_manifests" / "revisions" / "sha256"
        _write_link(revisions / hex_digest, hex_digest)
        return hex_digest

    def tag(self, repository: str, tag: str, hex_digest: str) -> None:
        """Point `tag` at the manifest `hex_digest` (current + index links)."""
        tag_dir = self._repo(repository) / "_manifests" / "tags" / tag
        _write_link(tag_dir / "current", hex_digest)
        _write_link(tag_dir / "index" / "sha256" / hex_digest, hex_digest)

    def bulk_tags(self, repository: str, tags: Iterable[str], hex_digest: str) -> None:
        """Point many new tags at one manifest, fast; existing tags are re-pointed."""
        tags_dir = self._repo(repository) / "_manifests" / "tags"
        tags_dir.mkdir(parents=True, exist_ok=True)
        link = f"sha256:{hex_digest}".encode()
        for tag in tags:
            try:
                _write_new_tag(f"{tags_dir}/{tag}", link)
            except FileExistsError:
                self.tag(repository, tag, hex_digest)

    def image_manifest(
        self,
        repository: str,
        platform: str,
        *,
        created: datetime,
        labels: dict[str, str] | None,
        salt: str = "",
    ) -> tuple[str, int]:
        """An OCI image manifest (config + one layer) for `platform`; returns (hex, size)."""
        os_name, arch, *variant = platform.split("/")
        layer = self.blob(f"layer {platform} {salt}".encode())
        self._link_layer(repository, layer)
        config: dict[str, object] = {
            "architecture": arch,
            "os": os_name,
            "created": created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "config": {"Labels": dict(labels or {})},
            "rootfs": {"type": "layers", "diff_ids": [f"sha256:{layer}"]},
        }
        if variant:
            config["variant"] = variant[0]
        config_body = _json_bytes(config)
        config_hex = self.blob(config_body)
        self._link_layer(repository, config_hex)
        layer_size = len(f"layer {platform} {salt}".encode())
        body = _json_bytes(
            {
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "config": {
                    "mediaType": OCI_CONFIG,
                    "digest": f"sha256:{config_hex}",
                    "size": len(config_body),
                },
                "layers": [
                    {"mediaType": OCI_LAYER, "digest": f"sha256:{layer}", "size": layer_size}
                ],
            }
        )
        return self.manifest(repository, body), len(body)

    def push_image(
        self,
        repository: str,
        tag: str,
        *,
        platforms: Sequence[str] = ("linux/amd64",),
        created: datetime | None = None,
        labels: dict[str, str] | None = None,
    ) -> str:
        """Seed `repository:tag`; one platform gives a manifest, several an OCI index.

        `created` defaults to now. Returns the digest a registry reports (`sha256:...`).
        """
        when = created or datetime.now(UTC)
        salt = f"{tag} {when.isoformat()} {sorted((labels or {}).items())}"
        entries = []
        for platform in platforms:
            hex_digest, size = self.image_manifest(
                repository, platform, created=when, labels=labels, salt=salt
            )
            os_name, arch, *variant = platform.split("/")
            spec: dict[str, str] = {"os": os_name, "architecture": arch}
            if variant:
                spec["variant"] = variant[0]
            entries.append(
                {
                    "mediaType": OCI_MANIFEST,
                    "digest": f"sha256:{hex_digest}",
                    "size": size,
                    "platform": spec,
                }
            )
        if len(platforms) == 1:
            top = entries[0]["digest"]
            assert isinstance(top, str)
            top_hex = top.removeprefix("sha256:")
        else:
            index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}
            top_hex = self.manifest(repository, _json_bytes(index))
        self.tag(repository, tag, top_hex)
        return f"sha256:{top_hex}"

    def push_tags(self, repository: str, tags: Iterable[str], *, distinct: bool = False) -> None:
        """Bulk-seed `tags` quickly: all share one single-platform manifest unless `distinct`."""
        if distinct:
            for tag in tags:
                self.push_image(repository, tag, created=datetime(2024, 1, 1, tzinfo=UTC))
            return
        shared = self._shared.get(repository)
        if shared is None:
            shared, _ = self.image_manifest(
                repository,
                "linux/amd64",
                created=datetime(2024, 1, 1, tzinfo=UTC),
                labels=None,
                salt=f"bulk {repository}",
            )
            self._shared[repository] = shared
        self.bulk_tags(repository, tags, shared)


# --- token server: the Docker Hub auth flow --------------------------------------------------


def libtrust_key_id(public_key: ec.EllipticCurvePublicKey) -> str:
    """The `kid` distribution 2.8 accepts: libtrust fingerprint of the DER SubjectPublicKeyInfo."""
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    encoded = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode().rstrip("=")
    return ":".join(encoded[i : i + 4] for i in range(0, len(encoded), 4))


@dataclass
class TokenServer:
    """A stdlib HTTP token server issuing ES256 JWTs that distribution 2.8 accepts.

    `users` maps username -> password (checked with basic auth at `/token`). Without
    credentials a token is issued only when `anonymous_pull` (pull access, like Docker Hub's
    public images); with wrong ones the answer is 401. `requests` counts token requests.
    """

    directory: Path
    users: dict[str, str] = field(default_factory=dict)
    service: str = "image-bot-tests"
    issuer: str = "image-bot-test-issuer"
    expires_in: int = 300
    anonymous_pull: bool = False
    requests: int = 0

    def __post_init__(self) -> None:
        self._key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "image-bot test token CA")])
        now = datetime.now(UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=30))
            .sign(self._key, hashes.SHA256())
        )
        self.directory.mkdir(parents=True, exist_ok=True)
        self.cert_path = self.directory / "token-ca.crt"
        self.cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        self._kid = libtrust_key_id(self._key.public_key())
        self._lock = threading.Lock()
        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    @property
    def realm(self) -> str:
        return f"http://127.0.0.1:{self.port}/token"

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def _user(self, header: str | None) -> str | Literal[False] | None:
        """The authenticated user, None for anonymous, False for bad credentials."""
        if not header:
            return None
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(value).decode().partition(":")
        except ValueError:
            return False
        return user if self.users.get(user) == password and user else False

    def issue(self, user: str | None, scopes: list[str]) -> dict[str, object]:
        """The JSON body of a token response granting `scopes` to `user`."""
        access = []
        for scope in scopes:
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            wanted = [a for a in actions.split(",") if a]
            granted = wanted if user else [a for a in wanted if a == "pull"]
            if kind == "repository" and name and granted:
                access.append({"type": kind, "name": name, "actions": granted})
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": user or "",
            "aud": self.service,
            "iat": now,
            "nbf": now - 5,
            "exp": now + self.expires_in,
            "jti": f"{now}-{self.requests}",
            "access": access,
        }
        token = jwt.encode(claims, self._key, algorithm="ES256", headers={"kid": self._kid})
        issued_at = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return {
            "token": token,
            "access_token": token,
            "expires_in": self.expires_in,
            "issued_at": issued_at,
        }

    def _handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive: clients reuse the connection
            disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms stall

            def log_message(self, format: str, *args: object) -> None:
                """Quiet: tests read counters, not logs."""

            def do_GET(self) -> None:
                url = urllib.parse.urlsplit(self.path)
                query = urllib.parse.parse_qs(url.query)
                with server._lock:
                    server.requests += 1
                user = server._user(self.headers.get("Authorization"))
                if url.path != "/token":
                    self._send(404, {"errors": [{"code": "NOT_FOUND"}]})
                elif user is False or (user is None and not server.anonymous_pull):
                    self._send(401, {"errors": [{"code": "UNAUTHORIZED"}]})
                else:
                    scopes = [s for value in query.get("scope", []) for s in value.split(" ")]
                    self._send(200, server.issue(user, scopes))

            def _send(self, status: int, body: dict[str, object]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler


# --- registry processes ------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


_ACCESS_LINE = re.compile(r'"(?P<method>[A-Z]+) (?P<path>\S+) HTTP/[\d.]+" (?P<status>\d{3}) ')
_markers = itertools.count(1)


@dataclass(frozen=True)
class ServedRequest:
    """One request a registry answered, from its access log (combined log format)."""

    method: str
    path: str
    status: int

    @classmethod
    def parse(cls, line: str) -> ServedRequest | None:
        """The request of an access log line; None for other log lines."""
        match = _ACCESS_LINE.search(line)
        if match is None:
            return None
        return cls(match["method"], match["path"], int(match["status"]))

    @property
    def kind(self) -> str:
        """`list`, `head` (manifest HEAD), `manifest` (GET), `blob`, `ping` or `other`."""
        if "/tags/list" in self.path:
            return "list"
        if "/manifests/" in self.path:
            return "head" if self.method == "HEAD" else "manifest"
        if "/blobs/" in self.path:
            return "blob"
        return "ping" if self.path.rstrip("/") == "/v2" else "other"


@dataclass
class RunningRegistry:
    """A docker-registry process: where it listens, its credentials, and a seeder."""

    host: str  # "127.0.0.1:PORT", the ImageName.registry of its images
    url: str  # "http://127.0.0.1:PORT"
    root: Path  # storage root (seeding writes here)
    username: str | None = None
    password: str | None = None
    token_server: TokenServer | None = None
    process: subprocess.Popen[bytes] | None = None
    log: Path | None = None  # the access log, when started with `access_log=True`
    seeder: Seeder = field(init=False)

    def __post_init__(self) -> None:
        self.seeder = Seeder(self.root)

    def push_image(
        self,
        repository: str,
        tag: str,
        *,
        platforms: Sequence[str] = ("linux/amd64",),
        created: datetime | None = None,
        labels: dict[str, str] | None = None,
    ) -> str:
        """Seed one image (an OCI index when several platforms); returns its digest."""
        return self.seeder.push_image(
            repository, tag, platforms=platforms, created=created, labels=labels
        )

    def push_tags(self, repository: str, tags: Iterable[str], *, distinct: bool = False) -> None:
        """Seed many tags fast (thousands per second); see `Seeder.push_tags`."""
        self.seeder.push_tags(repository, tags, distinct=distinct)

    def served(self, repository_prefix: str = "") -> list[ServedRequest]:
        """Every request the registry answered so far, by its access log (oldest first),
        optionally only those for repositories under `repository_prefix`.

        Go writes a request's log line just after its response, so a request whose answer
        the client has read may be missing for a few milliseconds: this waits until the
        registry has logged a marker request sent after everything before it.
        """
        if self.log is None:
            raise RuntimeError("start the registry with access_log=True")
        marker = f"/v2/image-bot-served-marker/tags/list?n={next(_markers)}"
        with contextlib.suppress(urllib.error.HTTPError):
            urllib.request.urlopen(f"{self.url}{marker}", timeout=5).close()  # noqa: S310
        deadline = time.monotonic() + 5
        while True:
            lines = self.log.read_text(errors="replace").splitlines()
            if any(marker in line for line in lines) or time.monotonic() > deadline:
                break
            time.sleep(0.005)
        served = [r for r in map(ServedRequest.parse, lines) if r is not None]
        wanted = f"/v2/{repository_prefix}"
        return [r for r in served if "served-marker" not in r.path and r.path.startswith(wanted)]

    def stop(self) -> None:
        """Kill the registry process (the token server too); idempotent."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        if self.token_server is not None:
            self.token_server.close()
            self.token_server = None


def _config(
    root: Path, port: int, auth: dict[str, object] | None, *, access_log: bool
) -> dict[str, object]:
    config: dict[str, object] = {
        "version": 0.1,
        "log": {"level": "error", "accesslog": {"disabled": not access_log}},
        "storage": {
            "filesystem": {"rootdirectory": str(root / "storage")},
            "delete": {"enabled": True},
        },
        "http": {"addr": f"127.0.0.1:{port}", "secret": "image-bot-tests"},
    }
    if auth:
        config["auth"] = auth
    return config


def _wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(f"{url}/v2/", timeout=1):  # noqa: S310 (local http)
                return True
        except urllib.error.HTTPError:
            return True  # 401 from an auth registry: it is serving
        except OSError:
            time.sleep(0.02)
    return False


def _htpasswd(directory: Path, username: str, password: str) -> Path:
    line = subprocess.run(
        ["htpasswd", "-Bbn", username, password], check=True, capture_output=True, text=True
    ).stdout.strip()
    path = directory / "htpasswd"
    path.write_text(line + "\n")
    return path


@contextlib.contextmanager
def start_registry(
    root: Path,
    *,
    auth: AuthMode = "none",
    username: str = "bot",
    password: str = "s3cret-registry-pass",  # noqa: S107 (a throwaway test registry)
    anonymous_pull: bool = False,
    access_log: bool = False,
    token_server: TokenServer | None = None,
) -> Iterator[RunningRegistry]:
    """Run a docker-registry with storage under `root` until the block ends.

    With `access_log`, the registry logs every request it answers (`RunningRegistry.served`).
    With `auth="token"`, `token_server` (a TokenServer or a subclass speaking more flows) is
    the realm; by default one is made with `username`/`password` as its user.
    """
    if shutil.which("docker-registry") is None:
        raise FileNotFoundError(_NOT_INSTALLED)
    root.mkdir(parents=True, exist_ok=True)
    auth_config: dict[str, object] | None = None
    if auth == "basic":
        auth_config = {
            "htpasswd": {"realm": "image-bot", "path": str(_htpasswd(root, username, password))}
        }
    elif auth == "token":
        token_server = token_server or TokenServer(
            root / "token", users={username: password}, anonymous_pull=anonymous_pull
        )
        auth_config = {
            "token": {
                "realm": token_server.realm,
                "service": token_server.service,
                "issuer": token_server.issuer,
                "rootcertbundle": str(token_server.cert_path),
            }
        }
    running: RunningRegistry | None = None
    try:
        for _attempt in range(5):
            port = free_port()
            config_path = root / "config.yml"
            config = _config(root, port, auth_config, access_log=access_log)
            config_path.write_text(json.dumps(config))  # JSON is YAML
            with (root / "registry.log").open("ab") as log:
                process = subprocess.Popen(
                    ["docker-registry", "serve", str(config_path)], stdout=log, stderr=log
                )
            url = f"http://127.0.0.1:{port}"
            if _wait_ready(url, process):
                running = RunningRegistry(
                    host=f"127.0.0.1:{port}",
                    url=url,
                    root=root / "storage",
                    username=username if auth != "none" else None,
                    password=password if auth != "none" else None,
                    token_server=token_server,
                    process=process,
                    log=root / "registry.log" if access_log else None,
                )
                break
            process.kill()
            process.wait()
        if running is None:
            log_tail = (root / "registry.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"docker-registry did not start:\n{log_tail}")
        yield running
    finally:
        if running is not None:
            running.stop()
        elif token_server is not None:
            token_server.close()


# --- pytest fixtures ----------------------------------------------------------------------------


def _session_registry(root: Path, auth: AuthMode) -> Iterator[RunningRegistry]:
    if shutil.which("docker-registry") is None:
        pytest.skip(_NOT_INSTALLED)
    with start_registry(root, auth=auth, access_log=True) as running:
        yield running


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningRegistry]:
    """An anonymous docker-registry for the whole session."""
    yield from _session_registry(tmp_path_factory.mktemp("registry"), "none")


@pytest.fixture(scope="session")
def basic_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningRegistry]:
    """A docker-registry with htpasswd basic auth (`.username` / `.password`)."""
    yield from _session_registry(tmp_path_factory.mktemp("basic-registry"), "basic")


@pytest.fixture(scope="session")
def token_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningRegistry]:
    """A docker-registry with Bearer token auth; `.token_server` issues and counts tokens."""
    yield from _session_registry(tmp_path_factory.mktemp("token-registry"), "token")


_repo_counter = itertools.count(1)


@pytest.fixture
def repo_name(request: pytest.FixtureRequest) -> str:
    """A repository name no other test uses: `test/<test-name>-<n>`."""
    slug = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")[:60].strip("-")
    return f"test/{slug or 'repo'}-{next(_repo_counter)}"
