"""Endpoint resolution: Docker Hub's API host, mirrors, insecure, who may get credentials."""

from __future__ import annotations

import httpx
import pytest

from image_bot.errors import ConfigError, redact
from image_bot.scan.hosts import RegistrySettings, endpoint_for, settings_by_host


def test_docker_hub_reads_from_its_api_host_and_trusts_its_auth_host() -> None:
    endpoint = endpoint_for(RegistrySettings("docker.io"))
    assert endpoint.origin == "https://registry-1.docker.io"
    assert endpoint.may_receive_credentials(httpx.URL("https://auth.docker.io/token"))
    assert not endpoint.may_receive_credentials(httpx.URL("https://evil.example/token"))


def test_plain_http_only_when_insecure() -> None:
    secure = endpoint_for(RegistrySettings("127.0.0.1:5000"))
    assert secure.origin == "https://127.0.0.1:5000"  # localhost is not insecure by default
    insecure = endpoint_for(RegistrySettings("127.0.0.1:5000", insecure=True))
    assert insecure.origin == "http://127.0.0.1:5000"
    assert insecure.may_receive_credentials(httpx.URL("http://127.0.0.1:5000/v2/"))
    assert not secure.may_receive_credentials(httpx.URL("http://127.0.0.1:5000/v2/"))


def test_token_realm_on_the_same_host_with_another_port_is_allowed() -> None:
    endpoint = endpoint_for(RegistrySettings("reg.example:5000"))
    assert endpoint.may_receive_credentials(httpx.URL("https://reg.example:8443/token"))


def test_a_refusal_names_every_rule_that_applies_and_only_those() -> None:
    insecure = endpoint_for(RegistrySettings("127.0.0.1:5000", insecure=True))
    elsewhere = insecure.refusal(httpx.URL("http://auth.example/token"))
    assert elsewhere == "host auth.example is not the registry's (add it to token_realms)"
    secure = endpoint_for(RegistrySettings("reg.example"))
    both = secure.refusal(httpx.URL("http://auth.example/token"))
    assert both is not None
    assert "token_realms" in both
    assert "plain http (allowed only for a registry marked insecure)" in both
    assert secure.refusal(httpx.URL("http://reg.example/token")) == (
        "plain http (allowed only for a registry marked insecure)"
    )
    assert secure.refusal(httpx.URL("https://reg.example:8443/token")) is None


def test_mirror_replaces_the_base_url() -> None:
    endpoint = endpoint_for(RegistrySettings("docker.io", mirror="https://mirror.internal:5000/x/"))
    assert endpoint.origin == "https://mirror.internal:5000"
    assert endpoint.host == "docker.io"
    assert endpoint.may_receive_credentials(httpx.URL("https://mirror.internal:5000/v2/"))


def test_settings_validation_and_secret_hiding() -> None:
    with pytest.raises(ConfigError, match="configured twice"):
        settings_by_host([RegistrySettings("a.io"), RegistrySettings("a.io")])
    with pytest.raises(ConfigError, match="concurrency"):
        RegistrySettings("a.io", concurrency=0)
    with pytest.raises(ConfigError, match="mirror"):
        RegistrySettings("a.io", mirror="mirror.internal")
    settings = RegistrySettings("a.io", username="u", password="pa55word-xyz")
    assert "pa55word-xyz" not in repr(settings)
    assert redact("login with pa55word-xyz failed") == "login with *** failed"
