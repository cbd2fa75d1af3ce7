"""The error tree: exit codes and secret redaction at construction."""

from __future__ import annotations

from image_bot.errors import (
    ConfigError,
    GitError,
    ImageBotError,
    RegistryAuthError,
    RegistryError,
    redact,
    register_secret,
)


def test_config_error_names_file_line_field_and_exits_2() -> None:
    error = ConfigError("must be a string", file="bot.yaml", line=12, field="images[0].policy")
    assert str(error) == "bot.yaml:12: images[0].policy: must be a string"
    assert error.exit_code == 2
    assert ImageBotError.exit_code == 1


def test_registered_secrets_never_reach_messages() -> None:
    register_secret("hunter2-very-secret")
    error = RegistryAuthError("ghcr.io", "login as bob with hunter2-very-secret refused")
    assert "hunter2" not in str(error)
    assert "***" in str(error)
    assert isinstance(error, RegistryError)


def test_credential_shapes_are_redacted_without_registration() -> None:
    text = (
        "GET https://bob:pa55word@registry.example/v2/ "
        "Authorization: Bearer eyJhbGciOiJFUzI1NiJ9.abc.def "
        'token=abcdef123456 {"password": "s3cr3t!"}'
    )
    out = redact(text)
    for secret in ("pa55word", "eyJhbGciOiJFUzI1NiJ9", "abcdef123456", "s3cr3t!"):
        assert secret not in out
    assert "registry.example/v2/" in out


def test_git_error_redacts_command_and_stderr() -> None:
    error = GitError(
        "push https://x-access-token:ghs_abcdefghij@github.com/o/r", "fatal: ghs_abcdefghij"
    )
    assert "ghs_abcdefghij" not in str(error)
    assert "ghs_abcdefghij" not in error.command


def test_words_after_secret_keys_are_not_credentials() -> None:
    prose = [
        "cannot read secrets/dockerhub-token: No such file or directory",
        "registry ghcr.io: basic authentication required",
        "the token exchange failed; the token server at auth.example refused",
        "Bearer token expired",
        "password: must be set when username is",
        "field forge.token: environment variable GH_TOKEN is not set",
        "secret: missing",
    ]
    for text in prose:
        assert redact(text) == text


def test_values_after_secret_keys_are_masked() -> None:
    cases = {
        "Authorization: Basic dXNlcjpwYXNzd29yZA==": "Authorization: Basic ***",
        "password: hunter22": "password: ***",
        "X-Registry-Token: Abc123def456": "X-Registry-Token: ***",
        "GET /v2/?access_token=lowercaseonly&n=1": "GET /v2/?access_token=***&n=1",
        "token='plainletters'": "token='***'",
        '{"secret": "no"}': '{"secret": "***"}',
        "PRIVATE-TOKEN: glpat-abcdefghijk": "PRIVATE-TOKEN: ***",
    }
    for text, masked in cases.items():
        assert redact(text) == masked


def test_known_secrets_are_masked_even_when_they_look_like_words() -> None:
    register_secret("correcthorsebattery")
    assert redact("token: correcthorsebattery") == "token: ***"
    assert redact("it said correcthorsebattery") == "it said ***"
