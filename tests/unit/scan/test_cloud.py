"""Cloud registry auth: which hosts are whose, which source wins, what a missing SDK or
identity does (the flows themselves run against real endpoints in
tests/integration/test_cloud_registries.py)."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest
import respx

from image_bot.config import Config
from image_bot.errors import RegistryAuthError
from image_bot.model import ImageName
from image_bot.scan.auth import basic_header
from image_bot.scan.cloud.kinds import CloudAuth, detect, ecr_region
from image_bot.scan.cloud.provider import CloudContext, CloudCredentials, CloudProvider, Issued
from image_bot.scan.dockerconfig import Credentials
from image_bot.scan.hosts import RegistrySettings
from tests.unit.scan.conftest import MakeRegistry


@pytest.mark.parametrize(
    ("host", "kind"),
    [
        ("123456789012.dkr.ecr.eu-west-1.amazonaws.com", CloudAuth.ECR),
        ("123456789012.dkr.ecr-fips.us-east-1.amazonaws.com", CloudAuth.ECR),
        ("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn", CloudAuth.ECR),
        ("europe-west4-docker.pkg.dev", CloudAuth.GCR),
        ("gcr.io", CloudAuth.GCR),
        ("eu.gcr.io", CloudAuth.GCR),
        ("acme.azurecr.io", CloudAuth.ACR),
        ("ACME.azurecr.io:443", CloudAuth.ACR),
        ("public.ecr.aws", None),  # ECR Public: anonymous
        ("ghcr.io", None),
        ("gcr.io.evil.example", None),
        ("evil-azurecr.io", None),
        ("1234.dkr.ecr.eu-west-1.amazonaws.com", None),
    ],
)
def test_cloud_registries_are_known_by_their_host_names(host: str, kind: CloudAuth | None) -> None:
    assert detect(host) == kind


def test_the_ecr_region_comes_from_the_host() -> None:
    assert ecr_region("123456789012.dkr.ecr.eu-west-1.amazonaws.com") == "eu-west-1"
    assert ecr_region("127.0.0.1:5000") is None


def test_the_setting_wins_over_the_host_name() -> None:
    assert RegistrySettings("acme.azurecr.io").cloud is CloudAuth.ACR
    assert RegistrySettings("acme.azurecr.io", auth=CloudAuth.NONE).cloud is None
    assert RegistrySettings("registry.internal", auth=CloudAuth.ECR).cloud is CloudAuth.ECR


def test_aws_options_belong_to_ecr_registries() -> None:
    ecr = {"host": "123456789012.dkr.ecr.eu-west-1.amazonaws.com", "aws": {"profile": "prod"}}
    assert Config.model_validate({"registries": [ecr]}).registries[0].aws is not None
    with pytest.raises(ValueError, match="aws applies to ECR registries only"):
        Config.model_validate({"registries": [{"host": "gcr.io", "aws": {"profile": "p"}}]})
    with pytest.raises(ValueError, match="role_arn"):
        Config.model_validate({"registries": [{**ecr, "aws": {"role_arn": "admin"}}]})


REG = "acme.azurecr.io"
BASIC = {"WWW-Authenticate": 'Basic realm="r"'}


def missing_sdk() -> CloudProvider:
    raise ImportError("No module named 'botocore'", name="botocore")


async def test_a_missing_extra_names_the_install_line(make_registry: MakeRegistry) -> None:
    cloud = CloudCredentials(providers={CloudAuth.ECR: missing_sdk})
    settings = RegistrySettings(REG, auth=CloudAuth.ECR)
    with respx.mock(assert_all_called=True) as mock:
        mock.get(f"https://{REG}/v2/team/app/tags/list").respond(401, headers=BASIC)
        with pytest.raises(RegistryAuthError) as caught:
            await make_registry([settings], cloud=cloud).list_tags(ImageName(REG, "team/app"))
    assert "auth: ecr needs botocore: pip install 'image-bot[aws]'" in caught.value.message


class Refusing:
    """A provider whose cloud has no identity for us (as on a laptop)."""

    extra = "gcp"

    async def issue(self, context: CloudContext) -> Issued:
        raise RegistryAuthError(context.endpoint.host, "gcr: no application default credentials")


class Issuing:
    extra = "gcp"

    async def issue(self, context: CloudContext) -> Issued:
        return Issued(Credentials("oauth2accesstoken", "ya29.abc123"), context.clock() + 3600)


async def test_a_host_name_guess_without_an_identity_reads_anonymously(
    make_registry: MakeRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    cloud = CloudCredentials(providers={CloudAuth.GCR: Refusing})
    bearer = {"WWW-Authenticate": 'Bearer realm="https://gcr.io/v2/token",service="gcr.io"'}
    with respx.mock(assert_all_called=True) as mock:
        tags = mock.get("https://gcr.io/v2/distroless/static/tags/list")
        tags.side_effect = [
            httpx.Response(401, headers=bearer),
            httpx.Response(200, json={"tags": ["nonroot"]}),
        ]
        token = mock.get(url__startswith="https://gcr.io/v2/token").respond(json={"token": "anon"})
        with caplog.at_level(logging.WARNING):
            listed = await make_registry(cloud=cloud).list_tags(
                ImageName("gcr.io", "distroless/static")
            )
    assert listed.tags == ("nonroot",)
    assert "authorization" not in token.calls.last.request.headers
    assert "reading gcr.io anonymously" in caplog.text


async def test_a_host_name_guess_on_ecr_fails_without_an_identity(
    make_registry: MakeRegistry,
) -> None:
    host = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
    refusing = Refusing()
    cloud = CloudCredentials(providers={CloudAuth.ECR: lambda: refusing})
    with respx.mock(assert_all_called=True) as mock:
        mock.get(f"https://{host}/v2/team/app/tags/list").respond(401, headers=BASIC)
        with pytest.raises(RegistryAuthError, match="no application default credentials"):
            await make_registry(cloud=cloud).list_tags(ImageName(host, "team/app"))


async def test_settings_and_docker_config_come_before_a_host_name_guess(
    make_registry: MakeRegistry, tmp_path: Path
) -> None:
    config = tmp_path / "config.json"
    config.write_text('{"auths": {"eu.gcr.io": {"username": "_json_key", "password": "k3y"}}}')
    cloud = CloudCredentials(providers={CloudAuth.GCR: Issuing})
    with respx.mock(assert_all_called=True) as mock:
        for host in ("eu.gcr.io", "gcr.io"):
            route = mock.get(f"https://{host}/v2/app/tags/list")
            route.side_effect = [httpx.Response(401, headers=BASIC), httpx.Response(200, json={})]
        registry = make_registry(cloud=cloud, docker_config=config)
        await registry.list_tags(ImageName("eu.gcr.io", "app"))
        await registry.list_tags(ImageName("gcr.io", "app"))
        sent = {call.request.url.host: call.request.headers.get("authorization")
                for call in mock.calls if "authorization" in call.request.headers}  # fmt: skip
    assert cloud.issued == {"gcr.io": 1}  # eu.gcr.io had docker config credentials
    assert sent["eu.gcr.io"] == basic_header("_json_key", "k3y")
    assert sent["gcr.io"] == basic_header("oauth2accesstoken", "ya29.abc123")
