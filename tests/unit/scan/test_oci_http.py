"""Paging, manifests, retries, rate limits and error mapping against stubbed registries."""

from __future__ import annotations

import hashlib
import json

import httpx
import pytest
import respx

from image_bot.errors import ImageNotFound, RegistryError, RegistryUnavailable, register_secret
from image_bot.model import Fact, ImageName
from image_bot.scan.hosts import RegistrySettings
from tests.unit.scan.conftest import MakeRegistry, Sleeps

REG = "reg.example"
IMAGE = ImageName(REG, "team/app")
BASE = f"https://{REG}/v2/team/app"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"


def _digest(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()


# --- tag paging -------------------------------------------------------------------------------


async def test_pages_follow_relative_and_absolute_links(make_registry: MakeRegistry) -> None:
    with respx.mock(assert_all_called=True) as mock:
        route = mock.get(url__startswith=f"{BASE}/tags/list")
        route.side_effect = [
            httpx.Response(
                200,
                json={"tags": ["a", "b"]},
                headers={"Link": '</v2/team/app/tags/list?n=1000&last=b>; rel="next"'},
            ),
            httpx.Response(
                200,
                json={"tags": ["c"]},
                headers={"Link": f'<{BASE}/tags/list?n=1000&last=c>; rel="next"'},
            ),
            httpx.Response(200, json={"tags": ["d"]}),
        ]
        result = await make_registry().list_tags(IMAGE)
    assert result.tags == ("a", "b", "c", "d")
    queries = [dict(call.request.url.params) for call in route.calls]
    assert queries == [{"n": "1000"}, {"n": "1000", "last": "b"}, {"n": "1000", "last": "c"}]


async def test_registry_that_ignores_n_answers_in_one_unsorted_page(
    make_registry: MakeRegistry,
) -> None:
    # distribution 2.8: no Link header, every tag at once, in storage order
    tags = [f"1.0.{i}" for i in range(2500, 0, -1)]
    with respx.mock(assert_all_called=True) as mock:
        route = mock.get(url__startswith=f"{BASE}/tags/list").respond(json={"tags": tags})
        result = await make_registry().list_tags(IMAGE)
    assert result.tags == tuple(tags)
    assert route.call_count == 1


async def test_link_to_another_origin_is_not_followed(make_registry: MakeRegistry) -> None:
    with respx.mock(assert_all_called=True) as mock:
        mock.get(url__startswith=f"{BASE}/tags/list").respond(
            json={"tags": ["a"]},
            headers={"Link": '<https://elsewhere.example/v2/x/tags/list?last=a>; rel="next"'},
        )
        assert (await make_registry().list_tags(IMAGE)).tags == ("a",)


async def test_a_page_with_nothing_new_ends_the_listing(make_registry: MakeRegistry) -> None:
    with respx.mock(assert_all_called=True) as mock:
        route = mock.get(url__startswith=f"{BASE}/tags/list").respond(
            json={"tags": ["a"]},
            headers={"Link": '</v2/team/app/tags/list?n=1000&last=a>; rel="next"'},
        )
        assert (await make_registry().list_tags(IMAGE)).tags == ("a",)
    assert route.call_count == 2


async def test_null_tags_is_an_empty_list(make_registry: MakeRegistry) -> None:
    with respx.mock(assert_all_called=True) as mock:
        mock.get(url__startswith=f"{BASE}/tags/list").respond(json={"name": "x", "tags": None})
        assert (await make_registry().list_tags(IMAGE)).tags == ()


async def test_unknown_repository_is_image_not_found(make_registry: MakeRegistry) -> None:
    body = {"errors": [{"code": "NAME_UNKNOWN", "message": "repository name not known"}]}
    with respx.mock(assert_all_called=True) as mock:
        mock.get(url__startswith=f"{BASE}/tags/list").respond(404, json=body)
        with pytest.raises(ImageNotFound, match="NAME_UNKNOWN") as caught:
            await make_registry().list_tags(IMAGE)
    assert caught.value.registry == REG
    assert caught.value.image == str(IMAGE)


async def test_mirror_serves_reads(make_registry: MakeRegistry) -> None:
    settings = RegistrySettings("docker.io", mirror="https://mirror.internal:5443/")
    with respx.mock(assert_all_called=True) as mock:
        route = mock.get(url__startswith="https://mirror.internal:5443/v2/library/nginx/tags/list")
        route.respond(json={"tags": ["1.27"]})
        registry = make_registry([settings])
        await registry.list_tags(ImageName("docker.io", "library/nginx"))
    assert registry.requests == {"docker.io": 1}


# --- manifests and facts ----------------------------------------------------------------------


async def test_digest_comes_from_a_head_with_accept(make_registry: MakeRegistry) -> None:
    with respx.mock(assert_all_called=True) as mock:
        head = mock.head(f"{BASE}/manifests/1.0").respond(
            headers={"Docker-Content-Digest": "sha256:" + "a" * 64}
        )
        facts = await make_registry().facts(IMAGE, "1.0", {Fact.DIGEST})
    assert facts.digest == "sha256:" + "a" * 64
    accept = head.calls.last.request.headers["accept"]
    for media_type in (OCI_INDEX, OCI_MANIFEST, DOCKER_MANIFEST):
        assert media_type in accept


def _config_blob(**extra: object) -> bytes:
    return json.dumps(
        {
            "architecture": "arm64",
            "os": "linux",
            "variant": "v8",
            "created": "2024-05-01T10:20:30.123456789Z",
            "config": {"Labels": {"org.opencontainers.image.revision": "abc123"}},
            **extra,
        }
    ).encode()


async def test_index_platforms_created_and_labels(make_registry: MakeRegistry) -> None:
    config = _config_blob()
    child = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"digest": _digest(config), "size": len(config)},
        }
    ).encode()
    index = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [
                {
                    "digest": "sha256:" + "1" * 64,
                    "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"},
                },
                {"digest": _digest(child), "platform": {"os": "linux", "architecture": "amd64"}},
                {
                    "digest": "sha256:" + "2" * 64,
                    "platform": {"os": "unknown", "architecture": "unknown"},
                },
            ],
        }
    ).encode()
    with respx.mock(assert_all_called=True) as mock:
        mock.get(f"{BASE}/manifests/2.0").respond(
            content=index,
            headers={"Content-Type": OCI_INDEX, "Docker-Content-Digest": _digest(index)},
        )
        mock.get(f"{BASE}/manifests/{_digest(child)}").respond(
            content=child, headers={"Content-Type": OCI_MANIFEST}
        )
        mock.get(f"{BASE}/blobs/{_digest(config)}").respond(content=config)
        facts = await make_registry().facts(IMAGE, "2.0", set(Fact))
    assert facts.digest == _digest(index)  # the index digest, not a platform's
    assert facts.platforms == {"linux/amd64", "linux/arm64/v8"}  # attestations left out
    assert facts.created is not None
    assert facts.created.isoformat() == "2024-05-01T10:20:30.123456+00:00"
    assert facts.labels == {"org.opencontainers.image.revision": "abc123"}


async def test_platforms_only_from_an_index_need_no_config(make_registry: MakeRegistry) -> None:
    index = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [
                {
                    "digest": "sha256:" + "1" * 64,
                    "platform": {"os": "linux", "architecture": "s390x"},
                }
            ],
        }
    ).encode()
    with respx.mock(assert_all_called=True) as mock:
        mock.get(f"{BASE}/manifests/2.0").respond(
            content=index, headers={"Content-Type": OCI_INDEX}
        )
        facts = await make_registry().facts(IMAGE, "2.0", {Fact.PLATFORMS})
    assert facts.platforms == {"linux/s390x"}
    assert facts.digest == _digest(index)  # computed when Docker-Content-Digest is missing
    assert facts.created is None


async def test_single_manifest_platform_comes_from_its_config(make_registry: MakeRegistry) -> None:
    config = _config_blob()
    manifest = json.dumps(
        {"schemaVersion": 2, "mediaType": DOCKER_MANIFEST, "config": {"digest": _digest(config)}}
    ).encode()
    with respx.mock(assert_all_called=True) as mock:
        mock.get(f"{BASE}/manifests/1.0").respond(content=manifest)
        mock.get(f"{BASE}/blobs/{_digest(config)}").respond(content=config)
        facts = await make_registry().facts(IMAGE, "1.0", {Fact.PLATFORMS})
    assert facts.platforms == {"linux/arm64/v8"}
    assert facts.labels == {}  # not asked for


async def test_config_blob_with_the_wrong_digest_is_refused(make_registry: MakeRegistry) -> None:
    manifest = json.dumps(
        {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": {"digest": "sha256:" + "f" * 64}}
    ).encode()
    with respx.mock(assert_all_called=True) as mock:
        mock.get(f"{BASE}/manifests/1.0").respond(content=manifest)
        mock.get(f"{BASE}/blobs/sha256:{'f' * 64}").respond(content=_config_blob())
        with pytest.raises(RegistryError, match="does not match"):
            await make_registry().facts(IMAGE, "1.0", {Fact.CREATED})


async def test_schema1_is_an_error_not_a_wrong_digest(make_registry: MakeRegistry) -> None:
    schema1 = json.dumps({"schemaVersion": 1, "name": "team/app", "tag": "1.0"}).encode()
    with respx.mock(assert_all_called=True) as mock:
        mock.get(f"{BASE}/manifests/1.0").respond(
            content=schema1,
            headers={"Content-Type": "application/vnd.docker.distribution.manifest.v1+prettyjws"},
        )
        with pytest.raises(RegistryError, match="unsupported manifest type"):
            await make_registry().facts(IMAGE, "1.0", {Fact.PLATFORMS})


# --- retries, Retry-After, rate limits --------------------------------------------------------


async def test_retry_after_is_honoured_on_429_and_503(
    make_registry: MakeRegistry, sleeps: Sleeps
) -> None:
    with respx.mock(assert_all_called=True) as mock:
        route = mock.get(url__startswith=f"{BASE}/tags/list")
        route.side_effect = [
            httpx.Response(429, headers={"Retry-After": "7"}),
            httpx.Response(503, headers={"Retry-After": "2"}),
            httpx.Response(200, json={"tags": ["1"]}),
        ]
        assert (await make_registry().list_tags(IMAGE)).tags == ("1",)
    assert sleeps == [7.0, 2.0]


async def test_backoff_grows_with_jitter(make_registry: MakeRegistry, sleeps: Sleeps) -> None:
    with respx.mock(assert_all_called=True) as mock:
        route = mock.get(url__startswith=f"{BASE}/tags/list")
        route.side_effect = [
            httpx.ConnectError("refused"),
            httpx.Response(502),
            httpx.Response(500),
            httpx.Response(200, json={"tags": []}),
        ]
        await make_registry(backoff=1.0).list_tags(IMAGE)
    assert len(sleeps) == 3
    for attempt, pause in enumerate(sleeps):
        assert 0.5 * 2**attempt <= pause <= 2**attempt


async def test_giving_up_is_registry_unavailable(
    make_registry: MakeRegistry, sleeps: Sleeps
) -> None:
    with respx.mock(assert_all_called=True) as mock:
        route = mock.get(url__startswith=f"{BASE}/tags/list").respond(
            503, headers={"Retry-After": "3"}
        )
        registry = make_registry(retries=2)
        with pytest.raises(RegistryUnavailable, match="HTTP 503") as caught:
            await registry.list_tags(IMAGE)
    assert route.call_count == 3
    assert sleeps == [3.0, 3.0]
    assert caught.value.retry_after == 3.0
    assert registry.requests[REG] == 3


async def test_a_retry_after_too_long_gives_up_at_once(
    make_registry: MakeRegistry, sleeps: Sleeps
) -> None:
    with respx.mock(assert_all_called=True) as mock:
        route = mock.get(url__startswith=f"{BASE}/tags/list").respond(
            429, headers={"Retry-After": "3600"}
        )
        with pytest.raises(RegistryUnavailable) as caught:
            await make_registry(max_retry_after=60).list_tags(IMAGE)
    assert route.call_count == 1
    assert sleeps == []
    assert caught.value.retry_after == 3600


async def test_low_rate_limit_spaces_requests_before_the_wall(
    make_registry: MakeRegistry, sleeps: Sleeps
) -> None:
    def quota(remaining: int) -> dict[str, str]:
        return {"ratelimit-limit": "100;w=21600", "ratelimit-remaining": f"{remaining};w=21600"}

    with respx.mock(assert_all_called=True) as mock:
        route = mock.get(url__startswith=f"{BASE}/tags/list")
        route.side_effect = [
            httpx.Response(200, json={"tags": []}, headers=quota(50)),
            httpx.Response(200, json={"tags": []}, headers=quota(5)),
            httpx.Response(200, json={"tags": []}, headers=quota(4)),
            httpx.Response(200, json={"tags": []}, headers=quota(0)),
        ]
        registry = make_registry()
        for _ in range(4):
            await registry.list_tags(IMAGE)
        # 50 left: no pause; 5 left of 100 (under the 10% reserve): requests are spaced by
        # window / remaining, capped at 5 s, so the 4th request waited
        assert len(sleeps) == 1
        assert 4.0 < sleeps[0] <= 5.0
        with pytest.raises(RegistryUnavailable, match="rate limit exhausted") as caught:
            await registry.list_tags(IMAGE)
    assert route.call_count == 4  # the fifth request was never sent
    assert caught.value.retry_after == 21600


async def test_pacing_pauses_when_quota_is_low(make_registry: MakeRegistry, sleeps: Sleeps) -> None:
    low = {"ratelimit-remaining": "3;w=60"}
    with respx.mock(assert_all_called=True) as mock:
        mock.get(url__startswith=f"{BASE}/tags/list").respond(json={"tags": []}, headers=low)
        registry = make_registry()
        for _ in range(3):
            await registry.list_tags(IMAGE)
    # 3 left of a 60 s window: one request per 5 s (capped), from the second request on
    assert len(sleeps) == 1  # the recorded sleep returns at once, so only the 3rd is spaced
    assert 0 < sleeps[0] <= 5.0


# --- error mapping: no library exception leaks --------------------------------------------------


def _all_subclasses(cls: type[Exception]) -> list[type[Exception]]:
    found = []
    for sub in cls.__subclasses__():
        found.append(sub)
        found.extend(_all_subclasses(sub))
    return found


def _instance(cls: type[Exception]) -> Exception:
    request = httpx.Request("GET", f"{BASE}/tags/list")
    if issubclass(cls, httpx.HTTPStatusError):
        return cls("boom", request=request, response=httpx.Response(500, request=request))
    if issubclass(cls, httpx.RequestError):
        return cls("boom", request=request)
    if issubclass(cls, httpx.StreamError):
        return cls()
    return cls("boom")


HTTPX_ERRORS = sorted(
    {*_all_subclasses(httpx.HTTPError), httpx.InvalidURL, *_all_subclasses(httpx.StreamError)},
    key=lambda cls: cls.__name__,
)


@pytest.mark.parametrize("error_type", HTTPX_ERRORS, ids=lambda cls: cls.__name__)
async def test_every_httpx_error_becomes_a_registry_error(
    make_registry: MakeRegistry, error_type: type[Exception]
) -> None:
    with respx.mock(assert_all_called=True) as mock:
        mock.get(url__startswith=f"{BASE}/tags/list").mock(side_effect=_instance(error_type))
        with pytest.raises(RegistryError) as caught:
            await make_registry(retries=1).list_tags(IMAGE)
    assert caught.value.registry == REG
    assert caught.value.__cause__ is None or isinstance(caught.value.__cause__, RegistryError)


def test_the_error_table_covers_the_transport_errors() -> None:
    names = {cls.__name__ for cls in HTTPX_ERRORS}
    assert {
        "ConnectError",
        "ReadTimeout",
        "RemoteProtocolError",
        "DecodingError",
        "InvalidURL",
    } <= names


async def test_secrets_are_redacted_from_errors(make_registry: MakeRegistry) -> None:
    secret = "sup3r-s3cret-value"
    register_secret(secret)
    with respx.mock(assert_all_called=True) as mock:
        mock.get(url__startswith=f"{BASE}/tags/list").respond(
            400, json={"errors": [{"code": "DENIED", "message": f"bad token {secret}"}]}
        )
        with pytest.raises(RegistryError) as caught:
            await make_registry().list_tags(IMAGE)
    assert "DENIED" in str(caught.value)
    assert secret not in str(caught.value)
    assert (
        "Authorization: Basic dXNlcjpwYXNzd29yZA=="
        not in RegistryError(REG, "Authorization: Basic dXNlcjpwYXNzd29yZA==").message
    )


async def test_the_last_quota_each_host_reported_is_kept_after_closing(
    make_registry: MakeRegistry,
) -> None:
    with respx.mock(assert_all_called=True) as mock:
        mock.get(url__startswith=f"{BASE}/tags/list").mock(
            side_effect=[
                httpx.Response(200, json={"tags": []}, headers={"ratelimit-remaining": "97;w=60"}),
                httpx.Response(200, json={"tags": []}, headers={"ratelimit-remaining": "96;w=60"}),
            ]
        )
        registry = make_registry()
        await registry.list_tags(IMAGE)
        await registry.list_tags(IMAGE)
        assert registry.rate_limits == {}  # recorded when the pass closes the registry
        await registry.aclose()
    assert registry.rate_limits == {IMAGE.registry: 96}
