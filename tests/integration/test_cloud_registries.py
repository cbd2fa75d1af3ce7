"""Native cloud registry auth through the real `image-bot tags` and real registries.

- ECR: botocore against `moto` running as a real server (`AWS_ENDPOINT_URL`), the registry a
  real docker-registry with Basic auth for `AWS` and the password moto issues, which names
  the account (`<account>-auth-token`): so reading the registry proves which identity
  botocore's chain ended at (environment keys, a cross-account `role_arn`, a profile that
  assumes a role, IRSA's web identity).
- GAR/GCR: google-auth's application default credentials from a service account key file
  whose `token_uri` is a local OAuth2 endpoint; the registry a real docker-registry whose
  token server knows the user `oauth2accesstoken` with that access token.
- ACR: azure-identity's App Service managed identity against a local identity endpoint,
  exchanged at the registry's `/oauth2/exchange` for a refresh token, which the Bearer flow
  then trades for access tokens from the (real docker-registry's) token server.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from moto.server import ThreadedMotoServer

from image_bot.cli import cli
from image_bot.model import ImageName
from image_bot.scan.cloud.kinds import CloudAuth
from image_bot.scan.cloud.provider import CloudCredentials
from image_bot.scan.hosts import RegistrySettings
from image_bot.scan.oci import OCIRegistry
from tests.support.cloud import AcrTokenServer, AppServiceIdentity, GoogleTokenEndpoint
from tests.support.registry import RunningRegistry, start_registry

pytestmark = pytest.mark.integration

TAGS = ["1.0.0", "1.1.0"]


def tags(image: str, config: Path) -> Result:
    return CliRunner().invoke(
        cli, ["tags", image, "--config", str(config), "--policy", "semver: ^1"]
    )


def write_config(path: Path, registry: RunningRegistry, lines: str) -> Path:
    path.write_text(f"registries:\n  - host: '{registry.host}'\n    insecure: true\n{lines}")
    return path


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No cloud identity from the machine running the tests leaks in."""
    for name in list(os.environ):
        if name.startswith(("AWS_", "AZURE_", "GOOGLE_", "IDENTITY_", "MSI_", "IMDS_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))
    return monkeypatch


# --- ECR ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws(clean_env: pytest.MonkeyPatch, moto_url: str) -> pytest.MonkeyPatch:
    clean_env.setenv("AWS_ENDPOINT_URL", moto_url)  # botocore's own switch: ECR and STS
    clean_env.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    return clean_env


KEYS = {"AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI"}
PROFILES = """\
[profile base]
region = eu-west-1
[profile prod]
role_arn = arn:aws:iam::444455556666:role/image-bot-read
source_profile = base
"""
BASE_KEYS = "[base]\naws_access_key_id = AKIABASE\naws_secret_access_key = base-secret\n"

ECR_CASES = {
    # case: (environment, aws: section, the account whose token the registry accepts)
    "environment keys": (KEYS, "", "123456789012"),
    "cross-account role_arn": (
        KEYS,
        "    aws: {role_arn: 'arn:aws:iam::111122223333:role/image-bot-read'}\n",
        "111122223333",
    ),
    "profile assuming a role": ({}, "    aws: {profile: prod}\n", "444455556666"),
    "IRSA web identity": (
        {"AWS_ROLE_ARN": "arn:aws:iam::777788889999:role/irsa", "AWS_WEB_IDENTITY_TOKEN_FILE": ""},
        "",
        "777788889999",
    ),
}


@pytest.mark.parametrize("case", ECR_CASES, ids=str)
def test_ecr_credentials_come_from_botocores_chain(
    aws: pytest.MonkeyPatch, tmp_path: Path, case: str
) -> None:
    environment, section, account = ECR_CASES[case]
    (tmp_path / "aws-config").write_text(PROFILES)
    (tmp_path / "aws-credentials").write_text(BASE_KEYS)
    (tmp_path / "web-identity-token").write_text("eyJ.web-identity.token")
    for name, value in environment.items():
        aws.setenv(name, value or str(tmp_path / "web-identity-token"))
    password = f"{account}-auth-token"
    with start_registry(tmp_path / "ecr", auth="basic", username="AWS", password=password) as ecr:
        ecr.push_tags("team/app", TAGS, distinct=True)
        config = write_config(tmp_path / "bot.yaml", ecr, "    auth: ecr\n" + section)
        result = tags(f"{ecr.host}/team/app:1.0.0", config)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == "1.1.0"
    assert password not in result.output


def test_ecr_without_an_identity_fails_its_images_with_the_reason(
    aws: pytest.MonkeyPatch, tmp_path: Path, basic_registry: RunningRegistry
) -> None:
    config = write_config(tmp_path / "bot.yaml", basic_registry, "    auth: ecr\n")
    result = tags(f"{basic_registry.host}/team/app:1.0.0", config)
    assert result.exit_code == 1
    assert "ecr: Unable to locate credentials" in result.stderr


# --- GAR / GCR ---------------------------------------------------------------------------------


@pytest.fixture
def google(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[GoogleTokenEndpoint]:
    endpoint = GoogleTokenEndpoint(tmp_path)
    clean_env.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(endpoint.key_file))
    yield endpoint
    endpoint.close()


@pytest.fixture
def gar(tmp_path: Path, google: GoogleTokenEndpoint) -> Iterator[RunningRegistry]:
    with start_registry(tmp_path / "gar", auth="token") as registry:
        assert registry.token_server is not None
        registry.token_server.users["oauth2accesstoken"] = google.access_token
        registry.push_tags("team/app", TAGS, distinct=True)
        yield registry


def test_gcr_reads_with_application_default_credentials(
    gar: RunningRegistry, google: GoogleTokenEndpoint, tmp_path: Path
) -> None:
    config = write_config(tmp_path / "bot.yaml", gar, "    auth: gcr\n")
    result = tags(f"{gar.host}/team/app:1.0.0", config)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == "1.1.0"
    assert google.issued == 1  # the tag list and the digests shared one access token
    assert google.access_token not in result.output


async def test_cloud_tokens_are_kept_across_passes_until_shortly_before_expiry(
    gar: RunningRegistry, google: GoogleTokenEndpoint, tmp_path: Path
) -> None:
    now = [time.time()]
    cloud = CloudCredentials(clock=lambda: now[0])
    settings = [RegistrySettings(gar.host, insecure=True, auth=CloudAuth.GCR)]
    name = ImageName(gar.host, "team/app")
    for hours in (0, 0.5, 1):  # passes as `serve` runs them, sharing one cache
        now[0] += hours * 3600
        async with OCIRegistry(settings, docker_config=tmp_path / "none", cloud=cloud) as reg:
            assert sorted((await reg.list_tags(name)).tags) == TAGS
    # the hour-long token served the first two passes; 5 minutes before its end, a new one
    assert google.issued == 2
    assert cloud.issued == {gar.host: 2}


def test_cloud_auth_is_asked_only_when_a_registry_wants_credentials(
    clean_env: pytest.MonkeyPatch, registry: RunningRegistry, tmp_path: Path
) -> None:
    clean_env.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    config = write_config(tmp_path / "bot.yaml", registry, "    auth: gcr\n")
    registry.push_tags("team/gcr-none", TAGS)
    result = tags(f"{registry.host}/team/gcr-none:1.0.0", config)
    assert result.exit_code == 0, result.output  # anonymous registry: no identity needed


def test_gcr_without_an_identity_fails_its_images_with_the_reason(
    gar: RunningRegistry, clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    clean_env.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    config = write_config(tmp_path / "bot.yaml", gar, "    auth: gcr\n")
    result = tags(f"{gar.host}/team/app:1.0.0", config)
    assert result.exit_code == 1
    assert "gcr: File " in result.stderr
    assert "missing.json was not found" in result.stderr


# --- ACR ---------------------------------------------------------------------------------------


@pytest.fixture
def azure(clean_env: pytest.MonkeyPatch) -> Iterator[AppServiceIdentity]:
    identity = AppServiceIdentity()
    clean_env.setenv("IDENTITY_ENDPOINT", identity.endpoint)
    clean_env.setenv("IDENTITY_HEADER", identity.secret)
    yield identity
    identity.close()


def test_acr_exchanges_an_azure_identity_for_a_refresh_token(
    azure: AppServiceIdentity, tmp_path: Path
) -> None:
    server = AcrTokenServer(tmp_path / "acr-token", identity=azure)
    with start_registry(tmp_path / "acr", auth="token", token_server=server) as acr:
        acr.push_tags("team/app", TAGS, distinct=True)
        config = write_config(tmp_path / "bot.yaml", acr, "    auth: acr\n")
        result = tags(f"{acr.host}/team/app:1.0.0", config)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == "1.1.0"
    assert azure.issued == 1
    (exchange,) = server.exchanges
    assert exchange["service"] == server.service
    assert exchange["tenant"] == azure.tenant
    assert server.requests >= 1  # access tokens came from the refresh token
    assert azure.tokens[0] not in result.output
    assert exchange["access_token"] == azure.tokens[0]
