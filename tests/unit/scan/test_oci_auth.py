"""Auth against stubbed registries: challenges, token caching, where credentials may go."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path

import httpx
import pytest
import respx

from image_bot.errors import RegistryAuthError
from image_bot.model import ImageName
from image_bot.scan.hosts import RegistrySettings
from tests.unit.scan.conftest import MakeRegistry

REG = "reg.example"
IMAGE = ImageName(REG, "team/app")
TAGS_URL = f"https://{REG}/v2/team/app/tags/list"
BEARER = (
    'Bearer realm="https://reg.example/token",service="reg.example",'
    'scope="repository:team/app:pull"'
)


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def _tags(*tags: str) -> httpx.Response:
    return httpx.Response(200, json={"name": "team/app", "tags": list(tags)})


async def test_anonymous_bearer_flow_and_token_reuse(make_registry: MakeRegistry) -> None:
    with respx.mock(assert_all_called=True) as mock:
        tags = mock.get(url__startswith=TAGS_URL)
        tags.side_effect = [
            httpx.Response(401, headers={"WWW-Authenticate": BEARER}),
            _tags("1.0"),
            _tags("1.0", "1.1"),
        ]
        token = mock.get(url__startswith=f"https://{REG}/token").respond(
            json={"token": "tok-123456789", "expires_in": 300}
        )
        registry = make_registry()
        first = await registry.list_tags(IMAGE)
        second = await registry.list_tags(IMAGE)
    assert (first.tags, second.tags) == (("1.0",), ("1.0", "1.1"))
    assert token.call_count == 1  # cached for the second listing
    assert token.calls.last.request.url.params["scope"] == "repository:team/app:pull"
    assert token.calls.last.request.url.params["service"] == REG
    assert "authorization" not in token.calls.last.request.headers  # no credentials: anonymous
    assert tags.calls[1].request.headers["authorization"] == "Bearer tok-123456789"
    # once the registry is known to want tokens, the next listing skips the 401 round trip
    assert tags.calls[2].request.headers["authorization"] == "Bearer tok-123456789"
    assert registry.requests[REG] == 4


async def test_token_is_fetched_again_after_expiry(make_registry: MakeRegistry) -> None:
    with respx.mock(assert_all_called=True) as mock:
        mock.get(url__startswith=TAGS_URL).side_effect = [
            httpx.Response(401, headers={"WWW-Authenticate": BEARER}),
            _tags("1.0"),
            _tags("1.0"),
        ]
        token = mock.get(url__startswith=f"https://{REG}/token")
        # issued long ago (issued_at + expires_in is in the past): not reused
        old = {"token": "old-token-1", "expires_in": 300, "issued_at": "2020-01-01T00:00:00Z"}
        token.side_effect = [
            httpx.Response(200, json=old),
            httpx.Response(200, json={"token": "new-token-2", "expires_in": 300}),
        ]
        registry = make_registry()
        await registry.list_tags(IMAGE)
        await registry.list_tags(IMAGE)
    assert token.call_count == 2


async def test_basic_credentials_go_to_the_token_realm(make_registry: MakeRegistry) -> None:
    settings = RegistrySettings(REG, username="bob", password="hunter2-secret")
    with respx.mock(assert_all_called=True) as mock:
        mock.get(url__startswith=TAGS_URL).side_effect = [
            httpx.Response(401, headers={"WWW-Authenticate": BEARER}),
            _tags("1.0"),
        ]
        token = mock.get(url__startswith=f"https://{REG}/token").respond(
            json={"access_token": "tok-abcdefgh"}
        )
        await make_registry([settings]).list_tags(IMAGE)
    assert token.calls.last.request.headers["authorization"] == _basic("bob", "hunter2-secret")


async def test_basic_auth_after_a_basic_challenge(make_registry: MakeRegistry) -> None:
    settings = RegistrySettings(REG, username="bob", password="hunter2-secret")
    with respx.mock(assert_all_called=True) as mock:
        route = mock.get(url__startswith=TAGS_URL)
        route.side_effect = [
            httpx.Response(401, headers={"WWW-Authenticate": 'Basic realm="r"'}),
            _tags("1.0"),
        ]
        assert (await make_registry([settings]).list_tags(IMAGE)).tags == ("1.0",)
    assert "authorization" not in route.calls[0].request.headers  # nothing before a challenge
    assert route.calls[1].request.headers["authorization"] == _basic("bob", "hunter2-secret")


async def test_wrong_basic_password_is_an_auth_error(make_registry: MakeRegistry) -> None:
    settings = RegistrySettings(REG, username="bob", password="wrong-password")
    with respx.mock(assert_all_called=True) as mock:
        mock.get(url__startswith=TAGS_URL).respond(
            401, headers={"WWW-Authenticate": 'Basic realm="r"'}
        )
        with pytest.raises(RegistryAuthError, match="credentials rejected") as caught:
            await make_registry([settings]).list_tags(IMAGE)
    assert "wrong-password" not in str(caught.value)
    assert caught.value.registry == REG


async def test_no_credentials_for_a_basic_registry(make_registry: MakeRegistry) -> None:
    with respx.mock(assert_all_called=True) as mock:
        mock.get(url__startswith=TAGS_URL).respond(
            401, headers={"WWW-Authenticate": 'Basic realm="r"'}
        )
        with pytest.raises(RegistryAuthError, match="no credentials"):
            await make_registry().list_tags(IMAGE)


async def test_credentials_never_go_to_a_foreign_token_realm(make_registry: MakeRegistry) -> None:
    settings = RegistrySettings(REG, username="bob", password="hunter2-secret")
    evil = 'Bearer realm="https://evil.example/token",service="x"'
    with respx.mock(assert_all_called=True) as mock:
        mock.get(url__startswith=TAGS_URL).respond(401, headers={"WWW-Authenticate": evil})
        token = mock.get(url__startswith="https://evil.example/", name="evil")
        token.respond(json={"token": "x"})
        with pytest.raises(RegistryAuthError, match="token_realms"):
            await make_registry([settings]).list_tags(IMAGE)
        assert token.call_count == 0
        mock.routes.pop("evil")


async def test_token_realms_setting_allows_another_host(make_registry: MakeRegistry) -> None:
    settings = RegistrySettings(
        REG, username="bob", password="hunter2-secret", token_realms=("auth.example",)
    )
    challenge = 'Bearer realm="https://auth.example/token",service="x"'
    with respx.mock(assert_all_called=True) as mock:
        mock.get(url__startswith=TAGS_URL).side_effect = [
            httpx.Response(401, headers={"WWW-Authenticate": challenge}),
            _tags("1.0"),
        ]
        token = mock.get(url__startswith="https://auth.example/token").respond(
            json={"token": "tok-abcdefgh"}
        )
        await make_registry([settings]).list_tags(IMAGE)
    assert token.calls.last.request.headers["authorization"] == _basic("bob", "hunter2-secret")


async def test_docker_hub_uses_its_api_host_and_auth_host(make_registry: MakeRegistry) -> None:
    settings = RegistrySettings("docker.io", username="bob", password="hunter2-secret")
    challenge = (
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
        'scope="repository:library/nginx:pull"'
    )
    url = "https://registry-1.docker.io/v2/library/nginx/tags/list"
    with respx.mock(assert_all_called=True) as mock:
        mock.get(url__startswith=url).side_effect = [
            httpx.Response(401, headers={"WWW-Authenticate": challenge}),
            httpx.Response(200, json={"tags": ["1.27"]}),
        ]
        token = mock.get(url__startswith="https://auth.docker.io/token").respond(
            json={"token": "tok-abcdefgh"}
        )
        result = await make_registry([settings]).list_tags(ImageName("docker.io", "library/nginx"))
    assert result.tags == ("1.27",)
    assert token.calls.last.request.headers["authorization"] == _basic("bob", "hunter2-secret")


async def test_no_credentials_over_plain_http(make_registry: MakeRegistry) -> None:
    # a mirror reached over http, registry not marked insecure: reads may go, credentials not
    settings = RegistrySettings(
        REG, mirror="http://mirror.internal:5000", username="bob", password="hunter2-secret"
    )
    with respx.mock(assert_all_called=True) as mock:
        mock.get(url__startswith="http://mirror.internal:5000/v2/team/app/tags/list").respond(
            401, headers={"WWW-Authenticate": 'Basic realm="r"'}
        )
        with pytest.raises(RegistryAuthError, match="plain http"):
            await make_registry([settings]).list_tags(IMAGE)


async def test_insecure_allows_credentials_over_http(make_registry: MakeRegistry) -> None:
    settings = RegistrySettings(
        "127.0.0.1:5000", insecure=True, username="bob", password="hunter2-secret"
    )
    with respx.mock(assert_all_called=True) as mock:
        route = mock.get(url__startswith="http://127.0.0.1:5000/v2/team/app/tags/list")
        route.side_effect = [
            httpx.Response(401, headers={"WWW-Authenticate": 'Basic realm="r"'}),
            _tags("1.0"),
        ]
        await make_registry([settings]).list_tags(ImageName("127.0.0.1:5000", "team/app"))
    assert route.calls[1].request.headers["authorization"] == _basic("bob", "hunter2-secret")


async def test_localhost_is_https_unless_insecure(make_registry: MakeRegistry) -> None:
    with respx.mock(assert_all_called=True) as mock:
        route = mock.get(url__startswith="https://localhost:5000/v2/team/app/tags/list")
        route.respond(json={"tags": ["1"]})
        await make_registry().list_tags(ImageName("localhost:5000", "team/app"))
    assert route.call_count == 1


async def test_redirects_to_another_host_lose_the_authorization(
    make_registry: MakeRegistry,
) -> None:
    settings = RegistrySettings(REG, username="bob", password="hunter2-secret")
    with respx.mock(assert_all_called=True) as mock:
        route = mock.get(url__startswith=TAGS_URL)
        route.side_effect = [
            httpx.Response(401, headers={"WWW-Authenticate": 'Basic realm="r"'}),
            httpx.Response(307, headers={"Location": "https://cdn.example/tags.json"}),
        ]
        cdn = mock.get("https://cdn.example/tags.json").respond(json={"tags": ["1"]})
        await make_registry([settings]).list_tags(IMAGE)
    assert route.calls[1].request.headers["authorization"].startswith("Basic ")
    assert "authorization" not in cdn.calls.last.request.headers


async def test_token_server_refusal_is_an_auth_error(make_registry: MakeRegistry) -> None:
    settings = RegistrySettings(REG, username="bob", password="hunter2-secret")
    with respx.mock(assert_all_called=True) as mock:
        mock.get(url__startswith=TAGS_URL).respond(401, headers={"WWW-Authenticate": BEARER})
        mock.get(url__startswith=f"https://{REG}/token").respond(401)
        with pytest.raises(RegistryAuthError, match="refused the credentials") as caught:
            await make_registry([settings]).list_tags(IMAGE)
    assert "hunter2-secret" not in str(caught.value)


async def test_insufficient_scope_after_a_fresh_token(make_registry: MakeRegistry) -> None:
    denied = BEARER + ',error="insufficient_scope"'
    with respx.mock(assert_all_called=True) as mock:
        mock.get(url__startswith=TAGS_URL).side_effect = [
            httpx.Response(401, headers={"WWW-Authenticate": BEARER}),
            httpx.Response(401, headers={"WWW-Authenticate": denied}),
        ]
        mock.get(url__startswith=f"https://{REG}/token").respond(json={"token": "tok-abcdefgh"})
        with pytest.raises(RegistryAuthError, match="insufficient_scope"):
            await make_registry().list_tags(IMAGE)


async def test_identity_token_is_exchanged_with_a_refresh_grant(
    make_registry: MakeRegistry, tmp_path: Path
) -> None:
    config = tmp_path / "config.json"
    config.write_text(f'{{"auths": {{"{REG}": {{"identitytoken": "refresh-me-123"}}}}}}')
    with respx.mock(assert_all_called=True) as mock:
        mock.get(url__startswith=TAGS_URL).side_effect = [
            httpx.Response(401, headers={"WWW-Authenticate": BEARER}),
            _tags("1.0"),
        ]
        token = mock.post(f"https://{REG}/token").respond(json={"access_token": "tok-abcdefgh"})
        await make_registry(docker_config=config).list_tags(IMAGE)
    form = dict(pair.split("=", 1) for pair in token.calls.last.request.content.decode().split("&"))
    assert form["grant_type"] == "refresh_token"
    assert form["refresh_token"] == "refresh-me-123"
    assert form["scope"] == "repository%3Ateam%2Fapp%3Apull"


async def test_concurrent_requests_share_one_token_exchange(make_registry: MakeRegistry) -> None:
    def registry_answer(request: httpx.Request) -> httpx.Response:
        if request.headers.get("authorization") != "Bearer tok-shared-1":
            return httpx.Response(401, headers={"WWW-Authenticate": BEARER})
        return _tags("1.0")

    with respx.mock(assert_all_called=True) as mock:
        mock.get(url__startswith=TAGS_URL).mock(side_effect=registry_answer)
        token = mock.get(url__startswith=f"https://{REG}/token").respond(
            json={"token": "tok-shared-1", "expires_in": 300}
        )
        registry = make_registry()
        results = await asyncio.gather(*(registry.list_tags(IMAGE) for _ in range(6)))
    assert all(result.tags == ("1.0",) for result in results)
    assert token.call_count == 1
