"""Docker tags read as versions: variants, revisions, calver, partial versions, git SHAs."""

from __future__ import annotations

import pytest

from image_bot.decide.semver import parse_semver
from image_bot.decide.versions import parse_tag


@pytest.mark.parametrize(
    ("tag", "release", "pre", "variant", "revision"),
    [
        ("1.25.3-alpine", (1, 25, 3), (), "alpine", None),
        ("v1.2", (1, 2), (), "", None),
        ("1.2.3-debian-12-r4", (1, 2, 3), (), "debian-12", 4),
        ("1.2.3-rc.1-alpine", (1, 2, 3), ("rc", "1"), "alpine", None),
        ("3.13.0rc2-slim", (3, 13, 0), ("rc", "2"), "slim", None),
        ("3.8.0alpha1", (3, 8, 0), ("a", "1"), "", None),  # PEP 440 spelling, via packaging
        ("2024.01.15", (2024, 1, 15), (), "", None),
        ("20240115", (20240115,), (), "", None),
        ("1.0.0.1", (1, 0, 0, 1), (), "", None),
        ("17-jdk-alpine3.19", (17,), (), "jdk-alpine3.19", None),
    ],
)
def test_parts(
    tag: str, release: tuple[int, ...], pre: tuple[str, ...], variant: str, revision: int | None
) -> None:
    parsed = parse_tag(tag)
    assert parsed is not None
    assert (parsed.release, parsed.pre, parsed.variant, parsed.revision) == (
        release,
        pre,
        variant,
        revision,
    )


@pytest.mark.parametrize("tag", ["latest", "stable", "main-3f2a9c1", "3f2a9c1", "deadbeefcafe", ""])
def test_not_versions(tag: str) -> None:
    assert parse_tag(tag) is None


@pytest.mark.parametrize(
    ("lower", "higher"),
    [
        ("1.2", "1.2.3"),
        ("1.2.3-rc.1", "1.2.3"),
        ("1.2.3-debian-12-r9", "1.2.3-debian-12-r10"),
        ("3.8.0b9", "3.8.0b10"),  # PEP 440 numbers compare as numbers
        ("3.8.0b1", "3.8.0rc1"),
        ("22.04", "22.10"),
        ("1.9.0", "1.10.0"),
    ],
)
def test_order(lower: str, higher: str) -> None:
    a, b = parse_tag(lower), parse_tag(higher)
    assert a is not None
    assert b is not None
    assert a.key < b.key


def test_equal_spellings_compare_equal() -> None:
    keys = {t: v.key for t in ("1.20", "1.20.0", "v1.20.0") if (v := parse_tag(t))}
    assert len(set(keys.values())) == 1


def test_semver_view_drops_the_variant_and_keeps_the_original_text() -> None:
    parsed = parse_tag("v1.27.0-rc.2-alpine")
    assert parsed is not None
    semver = parsed.semver
    assert semver is not None
    assert str(semver) == "1.27.0-rc.2"
    assert semver.original == "v1.27.0-rc.2-alpine"
    assert parse_semver("1.27.0-rc.2") == semver
