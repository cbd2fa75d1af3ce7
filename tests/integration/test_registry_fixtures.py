"""The registry fixtures themselves: what they seed is what a real registry serves."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request

import pytest

from tests.support.registry import OCI_INDEX, OCI_MANIFEST, RunningRegistry

pytestmark = pytest.mark.integration

_ACCEPT = f"{OCI_INDEX}, {OCI_MANIFEST}"


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 (local http)
    try:
        with urllib.request.urlopen(request) as response:  # noqa: S310
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_seeded_tags_and_digests_are_served(registry: RunningRegistry, repo_name: str) -> None:
    registry.push_tags(repo_name, [f"1.0.{i}" for i in range(300)])
    single = registry.push_image(repo_name, "one")
    multi = registry.push_image(repo_name, "multi", platforms=("linux/amd64", "linux/arm/v7"))

    status, _, body = _get(f"{registry.url}/v2/{repo_name}/tags/list")
    assert status == 200
    assert len(json.loads(body)["tags"]) == 302
    for tag, digest, media_type in (("one", single, OCI_MANIFEST), ("multi", multi, OCI_INDEX)):
        status, headers, _ = _get(
            f"{registry.url}/v2/{repo_name}/manifests/{tag}", {"Accept": _ACCEPT}
        )
        assert (status, headers["Docker-Content-Digest"]) == (200, digest)
        assert headers["Content-Type"] == media_type


def test_repo_names_differ_per_test(repo_name: str) -> None:
    assert repo_name.startswith("test/test-repo-names-differ-per-test-")


def test_basic_registry_wants_credentials(basic_registry: RunningRegistry) -> None:
    status, headers, _ = _get(f"{basic_registry.url}/v2/")
    assert status == 401
    assert headers["Www-Authenticate"].startswith("Basic ")
    assert basic_registry.password is not None
    pair = f"{basic_registry.username}:{basic_registry.password}".encode()
    status, _, _ = _get(
        f"{basic_registry.url}/v2/", {"Authorization": "Basic " + base64.b64encode(pair).decode()}
    )
    assert status == 200


def test_token_registry_accepts_its_tokens(token_registry: RunningRegistry, repo_name: str) -> None:
    token_registry.push_image(repo_name, "1.0")
    server = token_registry.token_server
    assert server is not None
    status, headers, _ = _get(f"{token_registry.url}/v2/{repo_name}/tags/list")
    assert status == 401
    assert f'scope="repository:{repo_name}:pull"' in headers["Www-Authenticate"]
    pair = f"{token_registry.username}:{token_registry.password}".encode()
    status, _, body = _get(
        f"{server.realm}?service={server.service}&scope=repository:{repo_name}:pull",
        {"Authorization": "Basic " + base64.b64encode(pair).decode()},
    )
    assert status == 200
    token = json.loads(body)["token"]
    status, _, body = _get(
        f"{token_registry.url}/v2/{repo_name}/tags/list", {"Authorization": f"Bearer {token}"}
    )
    assert (status, json.loads(body)["tags"]) == (200, ["1.0"])
    wrong = base64.b64encode(f"{token_registry.username}:nope".encode()).decode()
    status, _, _ = _get(
        f"{server.realm}?service={server.service}", {"Authorization": f"Basic {wrong}"}
    )
    assert status == 401
