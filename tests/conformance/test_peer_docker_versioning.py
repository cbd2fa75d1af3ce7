"""Renovate `docker` versioning cases vs image_bot.decide.versions (docker tags as versions)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from image_bot.config import parse_policy
from image_bot.decide.build import build_policy
from image_bot.decide.versions import TagVersion, parse_tag
from image_bot.model import TagList
from image_bot.reference import parse_reference

pytestmark = pytest.mark.conformance

_FILE = Path(__file__).resolve().parents[3] / "shared" / "peer-cases" / "docker-versioning.json"
_CASES: list[dict[str, Any]] = json.loads(_FILE.read_text())["cases"] if _FILE.is_file() else []

_SHORTER_IS_GREATER = (
    "Renovate ranks a floating tag above its patches (`10.1` > `10.1.2`); we compare like"
    " SemVer (`10.1` == `10.1.0` < `10.1.2`), as Masterminds and Argo CD do (argocd/sort/"
    "by-semver needs `v1.0` < `v1.0.1`); same-image floating tags are collapsed by digest"
)
_EXACT_RANGE = (
    "a docker 'range' is one exact version for Renovate; ours are Masterminds ranges, where"
    " `1.2` means 1.2.x"
)
# Intended differences, each documented in docs/versions.md ("Parity with Renovate").
DIFFERENT = {
    "docker/isGreaterThan/1.2.3>1.2": _SHORTER_IS_GREATER,
    "docker/isGreaterThan/10.1>10.1.2": _SHORTER_IS_GREATER,
    "docker/sortVersions/unstable-list": _SHORTER_IS_GREATER,
    "docker/getSatisfyingVersion/1.2": _EXACT_RANGE,
    "docker/getSatisfyingVersion/1": _EXACT_RANGE,
    "docker/getSatisfyingVersion/0.9": _EXACT_RANGE,
    "docker/isCompatible/3.7-alpine~3.7.0-alpine": (
        "the variant is the suffix only; precision may change (`1.0` -> `2.0.3` is an"
        " Argo CD case we pass), so `3.7-alpine` and `3.7.0-alpine` are one variant"
    ),
}


def _params(*kinds: str) -> list[Any]:
    chosen = [c for c in _CASES if c["kind"] in kinds]
    if not chosen:
        return [pytest.param(None, id="shared-peer-cases-absent")]
    return [
        pytest.param(
            c,
            id=c["id"],
            marks=[pytest.mark.xfail(reason=DIFFERENT[c["id"]], strict=True)]
            if c["id"] in DIFFERENT
            else [],
        )
        for c in chosen
    ]


def _case(case: dict[str, Any] | None, shared_dir: Path) -> dict[str, Any]:
    assert shared_dir.is_dir()
    if case is None:
        pytest.skip("no cases")
    return case


def _version(text: str) -> TagVersion:
    parsed = parse_tag(text)
    assert parsed is not None, text
    return parsed


def _sign(a: TagVersion, b: TagVersion) -> int:
    return (a.key > b.key) - (a.key < b.key)


@pytest.mark.parametrize("case", _params("isValid"))
def test_is_valid(case: dict[str, Any] | None, shared_dir: Path) -> None:
    case = _case(case, shared_dir)
    text = case["input"]["version"]
    assert (text is not None and parse_tag(text) is not None) is case["expected"]["result"]


@pytest.mark.parametrize("case", _params("getMajorMinorPatch"))
def test_major_minor_patch(case: dict[str, Any] | None, shared_dir: Path) -> None:
    case = _case(case, shared_dir)
    parsed = parse_tag(case["input"]["version"])
    parts = [*(parsed.release if parsed else ()), None, None, None][:3]
    assert dict(zip(("major", "minor", "patch"), parts, strict=True)) == case["expected"]


@pytest.mark.parametrize("case", _params("isGreaterThan", "equals", "sortVersions"))
def test_comparisons(case: dict[str, Any] | None, shared_dir: Path) -> None:
    case = _case(case, shared_dir)
    sign = _sign(_version(case["input"]["a"]), _version(case["input"]["b"]))
    if case["kind"] == "isGreaterThan":
        assert (sign > 0) is case["expected"]["result"]
    elif case["kind"] == "equals":
        assert (sign == 0) is case["expected"]["result"]
    else:
        assert sign == case["expected"]["sign"]


@pytest.mark.parametrize("case", _params("isLessThanRange"))
def test_is_less_than_range(case: dict[str, Any] | None, shared_dir: Path) -> None:
    case = _case(case, shared_dir)
    sign = _sign(_version(case["input"]["version"]), _version(case["input"]["range"]))
    assert (sign < 0) is case["expected"]["result"]


@pytest.mark.parametrize("case", _params("getSatisfyingVersion"))
def test_satisfying_version(case: dict[str, Any] | None, shared_dir: Path) -> None:
    case = _case(case, shared_dir)
    policy = build_policy(parse_policy({"semver": case["input"]["range"]}).settings())
    current = parse_reference("registry.example/app")
    tags = TagList(current.name, tuple(case["input"]["versions"]))
    decision = policy.choose(current, tags, now=datetime(2026, 1, 1, tzinfo=UTC))
    assert not decision.missing
    selected = decision.target.tag if decision.target else None
    assert selected == case["expected"]["result"]


@pytest.mark.parametrize("case", _params("getNewValue"))
def test_new_value_is_the_new_tag_verbatim(case: dict[str, Any] | None, shared_dir: Path) -> None:
    case = _case(case, shared_dir)
    new = case["input"]["newVersion"]
    policy = build_policy(parse_policy({}).settings())
    current = parse_reference("registry.example/app")
    decision = policy.choose(current, TagList(current.name, (new,)), now=datetime.now(UTC))
    assert decision.target is not None
    assert decision.target.tag == case["expected"]["result"]


@pytest.mark.parametrize("case", _params("isStable"))
def test_is_stable(case: dict[str, Any] | None, shared_dir: Path) -> None:
    case = _case(case, shared_dir)
    assert _version(case["input"]["version"]).is_stable is case["expected"]["result"]


@pytest.mark.parametrize("case", _params("isCompatible"))
def test_is_compatible(case: dict[str, Any] | None, shared_dir: Path) -> None:
    """Compatible = the semver policy may move the current tag to this one (same variant)."""
    case = _case(case, shared_dir)
    version, current = case["input"]["version"], case["input"]["current"]
    policy = build_policy(parse_policy({"semver": ">=0.0.0-0"}).settings())
    ref = parse_reference(f"registry.example/app:{current}")
    rejected = dict(
        policy.choose(ref, TagList(ref.name, (version,)), now=datetime.now(UTC)).rejected
    )
    assert ("variant" not in rejected.get(version, "")) is case["expected"]["result"]


@pytest.mark.parametrize("case", _params("valueToVersion"))
def test_value_to_version(case: dict[str, Any] | None, shared_dir: Path) -> None:
    case = _case(case, shared_dir)
    text = case["input"]["value"]
    parsed = parse_tag(text) if text is not None else None
    assert (parsed.version_text if parsed else None) == case["expected"]["result"]


@pytest.mark.parametrize("case", _params("sortList"))
def test_sort_list(case: dict[str, Any] | None, shared_dir: Path) -> None:
    case = _case(case, shared_dir)
    versions = [_version(text) for text in case["input"]["versions"]]
    ordered = sorted(versions, key=lambda v: (v.key, v.variant == "", v.tag))
    assert [v.tag for v in ordered] == case["expected"]["result"]
