"""Distribution reference grammar: parsing, normalization, spelling kept."""

from __future__ import annotations

import pytest

from image_bot.errors import InvalidReference
from image_bot.model import ImageName
from image_bot.reference import is_valid_tag, parse_name, parse_reference, with_tag

DIGEST = "sha256:" + "a" * 64


@pytest.mark.parametrize(
    ("text", "registry", "repository", "tag", "digest"),
    [
        ("nginx", "docker.io", "library/nginx", None, None),
        ("nginx:1.25.3-alpine", "docker.io", "library/nginx", "1.25.3-alpine", None),
        ("bitnami/redis:7", "docker.io", "bitnami/redis", "7", None),
        ("docker.io/nginx", "docker.io", "library/nginx", None, None),
        ("index.docker.io/library/nginx", "docker.io", "library/nginx", None, None),
        ("registry-1.docker.io/user/app:v1", "docker.io", "user/app", "v1", None),
        (
            "ghcr.io/fluxcd/source-controller:v1.2.0",
            "ghcr.io",
            "fluxcd/source-controller",
            "v1.2.0",
            None,
        ),
        ("localhost:5000/team/app:1", "localhost:5000", "team/app", "1", None),
        ("localhost/app", "localhost", "app", None, None),
        ("127.0.0.1:5000/a/b/c:x", "127.0.0.1:5000", "a/b/c", "x", None),
        ("[::1]:5000/app:1", "[::1]:5000", "app", "1", None),
        (f"quay.io/a/b@{DIGEST}", "quay.io", "a/b", None, DIGEST),
        (f"nginx:1.2@{DIGEST}", "docker.io", "library/nginx", "1.2", DIGEST),
        ("Registry.Example/app", "Registry.Example", "app", None, None),
        ("a__b/c.d-e:_tag", "docker.io", "a__b/c.d-e", "_tag", None),
    ],
)
def test_parse_and_normalize(
    text: str, registry: str, repository: str, tag: str | None, digest: str | None
) -> None:
    ref = parse_reference(text)
    assert ref.name == ImageName(registry, repository)
    assert (ref.tag, ref.digest) == (tag, digest)
    assert ref.text == text


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "empty"),
        (" nginx", "whitespace"),
        ("Nginx", "lowercase"),
        ("nginx:", "tag"),
        ("nginx:-bad", "tag"),
        ("nginx:" + "a" * 129, "tag"),
        ("nginx@sha256:abc", "digest"),
        ("nginx@md5:" + "a" * 64 + "!", "digest"),
        ("a//b", "path component"),
        ("a/b-", "path component"),
        ("-host.io/x", "registry host"),
        ("x" * 256, "longer than 255"),
    ],
)
def test_invalid_references_are_clear_errors(text: str, why: str) -> None:
    with pytest.raises(InvalidReference) as raised:
        parse_reference(text)
    assert why in str(raised.value)
    assert raised.value.exit_code == 2


@pytest.mark.parametrize(
    ("tag", "valid"),
    [
        ("1.2.3", True),
        ("_x", True),
        ("A-b.C_d", True),
        (".x", False),
        ("-x", False),
        ("a+b", False),
    ],
)
def test_tag_grammar(tag: str, valid: bool) -> None:
    assert is_valid_tag(tag) is valid


def test_with_tag_keeps_the_users_spelling() -> None:
    short = parse_reference("nginx:1.25@" + DIGEST)
    moved = with_tag(short, "1.27")
    assert moved.text == "nginx:1.27"
    assert moved.name == short.name
    assert with_tag(parse_reference("localhost:5000/app"), "2", DIGEST).text == (
        f"localhost:5000/app:2@{DIGEST}"
    )
    with pytest.raises(InvalidReference):
        with_tag(short, "not a tag")


def test_canonical_form_is_fully_qualified() -> None:
    assert parse_reference("nginx:1").canonical == "docker.io/library/nginx:1"
    assert str(parse_name("nginx")) == "docker.io/library/nginx"
