"""Policy tables over realistic tag lists (tests/fixtures/tags/<image>.txt), Flux-style."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.unit.decide.helpers import policy, run

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "tags"


def _tags(image: str) -> tuple[str, ...]:
    lines = (FIXTURES / f"{image}.txt").read_text().splitlines()
    return tuple(line.strip() for line in lines if line.strip())


TABLE: list[tuple[str, str, dict[str, Any], str | None]] = [
    # (fixture, current reference, policy, expected target or None)
    ("nginx", "nginx:1.25.3", {}, "nginx:1.27.0"),
    ("nginx", "nginx:1.25.3-alpine", {}, "nginx:1.27.0-alpine"),
    ("nginx", "nginx:1.25.3-alpine-slim", {}, "nginx:1.27.0-alpine-slim"),
    ("nginx", "nginx:1.25.3-alpine", {"semver": "~1.25"}, "nginx:1.25.4-alpine"),
    # a floating tag keeps its spelling when it moves to a new line (1.26.1 is written 1.26)
    ("nginx", "nginx:1.25", {"semver": "1.26.x"}, "nginx:1.26"),
    ("nginx", "nginx:1.25", {}, "nginx:1.27"),
    ("postgres", "postgres:15", {}, "postgres:16"),
    ("nginx", "nginx:1.25", {"filter": {"pattern": r"^\d+\.\d+$"}}, "nginx:1.27"),
    ("nginx", "nginx:1.27.0-alpine3.19", {}, None),  # no newer alpine3.19 build
    ("nginx", "nginx:1.27.0", {}, None),
    ("nginx", "nginx:latest", {}, "nginx:1.27.0"),
    ("postgres", "postgres:16.2", {}, "postgres:16.4"),
    ("postgres", "postgres:16.2", {"semver": "<17"}, "postgres:16.4"),
    ("postgres", "postgres:16.2", {"semver": "*", "prerelease": True}, "postgres:17rc1"),
    ("postgres", "postgres:16-alpine", {}, "postgres:16.4-alpine"),
    ("postgres", "postgres:16-alpine", {"filter": {"pattern": r"^\d+-alpine$"}}, None),
    (
        "postgres",
        "postgres:15-alpine",
        {"filter": {"pattern": r"^\d+-alpine$"}},
        "postgres:16-alpine",
    ),
    (
        "bitnami-redis",
        "bitnami/redis:7.2.4-debian-12-r9",
        {"semver": "~7.2"},
        "bitnami/redis:7.2.5-debian-12-r4",
    ),
    ("bitnami-redis", "bitnami/redis:7.2.4-debian-12-r9", {}, "bitnami/redis:7.4.0-debian-12-r2"),
    ("bitnami-redis", "bitnami/redis:7.2.5", {}, "bitnami/redis:7.4"),
    ("python", "python:3.12.5-slim", {}, "python:3.13.0-slim"),
    ("python", "python:3.12.5-slim", {"semver": "*", "prerelease": True}, "python:3.14.0a1-slim"),
    ("python", "python:3.12.5-slim", {"semver": "~3.12"}, "python:3.12.6-slim"),
    ("python", "python:3.12.5", {"ignore": ["3.13*"]}, None),
    (
        "app-builds",
        "ghcr.io/acme/app:main-3f2a9c1-1718000000",
        {
            "numerical": "asc",
            "filter": {"pattern": r"^main-[a-f0-9]+-(?P<ts>\d+)$", "extract": "$ts"},
        },
        "ghcr.io/acme/app:main-77aa001-1719000000",
    ),
    ("app-builds", "ghcr.io/acme/app:v1.4.0", {}, "ghcr.io/acme/app:v1.4.1"),
    (
        "app-builds",
        "ghcr.io/acme/app:v1.4.1",
        {"semver": ">=1.5.0-0"},
        "ghcr.io/acme/app:v1.5.0-rc.1",
    ),
]


@pytest.mark.parametrize(("fixture", "current", "spec", "expected"), TABLE)
def test_policy_table(
    fixture: str, current: str, spec: dict[str, Any], expected: str | None
) -> None:
    result = run(policy(**spec), current, _tags(fixture))
    assert result.target == expected, result.decision.reason
