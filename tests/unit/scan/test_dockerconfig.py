"""Docker config.json credentials: auths, identity tokens, credHelpers/credsStore programs."""

from __future__ import annotations

import base64
import json
import os
import stat
import sys
from pathlib import Path

import httpx
import pytest
import respx

from image_bot.errors import ConfigError, RegistryAuthError
from image_bot.model import ImageName
from image_bot.scan.dockerconfig import Credentials, DockerConfig, default_docker_config_path
from tests.unit.scan.conftest import MakeRegistry


def _write(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data))
    return path


def _auth(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode()


def test_auths_with_base64_auth_and_plain_fields(tmp_path: Path) -> None:
    config = DockerConfig(
        _write(
            tmp_path / "config.json",
            {
                "auths": {
                    "https://index.docker.io/v1/": {"auth": _auth("hubuser", "hub:pass")},
                    "ghcr.io": {"username": "gh", "password": "ghp-token-value"},
                    "https://quay.io": {"identitytoken": "quay-refresh-token"},
                    "empty.example": {},
                }
            },
        )
    )
    assert config.lookup("docker.io") == Credentials("hubuser", "hub:pass")
    assert config.lookup("ghcr.io") == Credentials("gh", "ghp-token-value")
    assert config.lookup("quay.io") == Credentials("", identity_token="quay-refresh-token")
    assert config.lookup("empty.example") is None
    assert config.lookup("other.example") is None
    assert "hub:pass" not in repr(config.lookup("docker.io"))


def test_missing_file_means_no_credentials(tmp_path: Path) -> None:
    assert DockerConfig(tmp_path / "absent.json").lookup("docker.io") is None


def test_invalid_files_are_config_errors(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ConfigError, match="invalid JSON"):
        DockerConfig(tmp_path / "bad.json")
    with pytest.raises(ConfigError, match="base64"):
        DockerConfig(_write(tmp_path / "b64.json", {"auths": {"x.io": {"auth": "%%%"}}}))


def test_default_path_follows_docker_config_env() -> None:
    assert default_docker_config_path({"DOCKER_CONFIG": "/etc/dc"}) == Path("/etc/dc/config.json")
    assert default_docker_config_path({"HOME": "/home/u"}) == Path("/home/u/.docker/config.json")


HELPER = """#!{python}
import json, sys
server = sys.stdin.read().strip()
with open({log!r}, "a") as log:
    log.write(sys.argv[1] + " " + server + "\\n")
known = {{
    "helped.example": {{"Username": "helper-user", "Secret": "helper-secret-1"}},
    "https://index.docker.io/v1/": {{"Username": "<token>", "Secret": "hub-identity"}},
}}
if server == "broken.example":
    print("keychain exploded", file=sys.stderr)
    sys.exit(2)
if server not in known:
    print("credentials not found in native keychain")
    sys.exit(1)
print(json.dumps({{"ServerURL": server, **known[server]}}))
"""


@pytest.fixture
def helper_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A real `docker-credential-test` program on PATH; returns the log of its calls."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "helper.log"
    script = bin_dir / "docker-credential-test"
    script.write_text(HELPER.format(python=sys.executable, log=str(log)))
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return log


def test_cred_helpers_run_the_program(tmp_path: Path, helper_log: Path) -> None:
    config = DockerConfig(
        _write(
            tmp_path / "config.json",
            {
                "auths": {"helped.example": {"auth": _auth("ignored", "ignored")}},
                "credHelpers": {
                    "helped.example": "test",
                    "docker.io": "test",
                    "nothing.example": "test",
                    "broken.example": "test",
                },
            },
        )
    )
    assert config.lookup("helped.example") == Credentials("helper-user", "helper-secret-1")
    assert config.lookup("helped.example") == Credentials("helper-user", "helper-secret-1")
    assert config.lookup("docker.io") == Credentials(identity_token="hub-identity")
    assert config.lookup("nothing.example") is None
    with pytest.raises(RegistryAuthError, match="keychain exploded"):
        config.lookup("broken.example")
    calls = helper_log.read_text().splitlines()
    assert calls.count("get helped.example") == 1  # remembered after the first run
    assert "get https://index.docker.io/v1/" in calls


def test_creds_store_is_the_fallback(tmp_path: Path, helper_log: Path) -> None:
    config = DockerConfig(
        _write(
            tmp_path / "config.json",
            {"auths": {"plain.example": {"auth": _auth("u", "p-value")}}, "credsStore": "test"},
        )
    )
    assert config.lookup("plain.example") == Credentials("u", "p-value")
    assert config.lookup("helped.example") == Credentials("helper-user", "helper-secret-1")
    assert helper_log.read_text().splitlines() == ["get helped.example"]


def test_missing_helper_program_is_an_auth_error(tmp_path: Path) -> None:
    config = DockerConfig(
        _write(tmp_path / "config.json", {"credHelpers": {"x.example": "nope-not-installed"}})
    )
    with pytest.raises(RegistryAuthError, match="not on PATH"):
        config.lookup("x.example")


async def test_registry_sends_helper_credentials_to_that_host_only(
    tmp_path: Path, helper_log: Path, make_registry: MakeRegistry
) -> None:
    config = _write(tmp_path / "config.json", {"credHelpers": {"helped.example": "test"}})
    challenge = {"WWW-Authenticate": 'Basic realm="r"'}
    with respx.mock(assert_all_called=True) as mock:
        helped = mock.get(url__startswith="https://helped.example/v2/a/tags/list")
        helped.side_effect = [
            httpx.Response(401, headers=challenge),
            httpx.Response(200, json={"tags": ["1"]}),
        ]
        other = mock.get(url__startswith="https://other.example/v2/a/tags/list")
        other.respond(401, headers=challenge)
        registry = make_registry(docker_config=config)
        await registry.list_tags(ImageName("helped.example", "a"))
        with pytest.raises(RegistryAuthError, match="no credentials"):
            await registry.list_tags(ImageName("other.example", "a"))
    pair = base64.b64decode(helped.calls[1].request.headers["authorization"].split()[1])
    assert pair == b"helper-user:helper-secret-1"
    assert all("authorization" not in call.request.headers for call in other.calls)


async def test_default_docker_config_only_when_none_is_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make_registry: MakeRegistry
) -> None:
    env_dir = tmp_path / "docker-env"
    env_dir.mkdir()
    _write(env_dir / "config.json", {"auths": {"helped.example": {"auth": _auth("env", "pw-1")}}})
    explicit = _write(
        tmp_path / "explicit.json", {"auths": {"helped.example": {"auth": _auth("cli", "pw-2")}}}
    )
    monkeypatch.setenv("DOCKER_CONFIG", str(env_dir))
    challenge = {"WWW-Authenticate": 'Basic realm="r"'}
    with respx.mock(assert_all_called=True) as mock:
        route = mock.get(url__startswith="https://helped.example/v2/a/tags/list")
        route.side_effect = lambda request: (
            httpx.Response(200, json={"tags": []})
            if "authorization" in request.headers
            else httpx.Response(401, headers=challenge)
        )
        from_env = make_registry(docker_config=None)
        from_cli = make_registry(docker_config=explicit)
        assert from_env.docker_config.path == env_dir / "config.json"
        await from_env.list_tags(ImageName("helped.example", "a"))
        await from_cli.list_tags(ImageName("helped.example", "a"))
    users = [
        base64.b64decode(call.request.headers["authorization"].split()[1]).split(b":")[0]
        for call in route.calls
        if "authorization" in call.request.headers
    ]
    assert users == [b"env", b"cli"]
