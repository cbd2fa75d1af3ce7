"""Masterminds/semver v3 cases (the range grammar Flux and Argo CD users write) vs decide.ranges."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from image_bot.decide.ranges import Op, RangeError, parse_range
from image_bot.decide.semver import compare, parse_semver

pytestmark = pytest.mark.conformance

_FILE = Path(__file__).resolve().parents[3] / "shared" / "peer-cases" / "semver-constraints.json"
_CASES: list[dict[str, Any]] = json.loads(_FILE.read_text())["cases"] if _FILE.is_file() else []

# Peer-specific cases we do not implement: the exact text of Masterminds' internal hyphen
# rewrite and String() rendering, and its internal parser's '' == '*' (NewConstraint, which
# Flux calls, rejects ''; so do we).
_NOT_PORTABLE = {"hyphen_range", "constraint_string"}


def _params(*kinds: str) -> list[Any]:
    chosen = [c for c in _CASES if c["kind"] in kinds]
    if not chosen:
        return [pytest.param(None, id="shared-peer-cases-absent")]
    return [pytest.param(c, id=c["id"]) for c in chosen]


def _portable(case: dict[str, Any] | None, shared_dir: Path) -> dict[str, Any]:
    assert shared_dir.is_dir()
    if case is None:
        pytest.skip("no cases")
    if case.get("peer_specific") and case["kind"] == "check" and case["input"]["constraint"] == "":
        pytest.skip("Masterminds' internal parser reads '' as '*'; NewConstraint rejects it")
    return case


@pytest.mark.parametrize("case", _params("check"))
def test_check(case: dict[str, Any] | None, shared_dir: Path) -> None:
    case = _portable(case, shared_dir)
    given = case["input"]
    version = parse_semver(given["version"])
    assert version is not None
    matched = parse_range(given["constraint"]).check(
        version, include_prerelease=given["include_prerelease"]
    )
    assert matched is case["expected"]["match"]


@pytest.mark.parametrize("case", _params("parse_constraint"))
def test_parse_constraint(case: dict[str, Any] | None, shared_dir: Path) -> None:
    case = _portable(case, shared_dir)
    expected = case["expected"]
    try:
        parsed = parse_range(case["input"]["constraint"])
    except RangeError:
        assert expected["valid"] is False
        return
    assert expected["valid"] is True
    if "or_groups" in expected:
        assert len(parsed.groups) == expected["or_groups"]
        assert len(parsed.groups[0]) == expected["and_terms_in_first_group"]
    if "operator" in expected:
        (term,) = parsed.groups[0]
        assert term.op is Op(expected["operator"])
        assert str(term.version) == expected["operand_version"]


@pytest.mark.parametrize("case", _params("parse_version"))
def test_parse_version(case: dict[str, Any] | None, shared_dir: Path) -> None:
    case = _portable(case, shared_dir)
    given = case["input"]
    parsed = parse_semver(given["version"], strict=given["mode"] == "strict")
    assert (parsed is not None) is case["expected"]["valid"]


@pytest.mark.parametrize("case", _params("original"))
def test_original_text_is_kept(case: dict[str, Any] | None, shared_dir: Path) -> None:
    case = _portable(case, shared_dir)
    parsed = parse_semver(case["input"]["version"])
    assert parsed is not None
    assert parsed.original == case["expected"]["original"]


_OPS = {
    "lt": lambda c: c < 0,
    "le": lambda c: c <= 0,
    "gt": lambda c: c > 0,
    "ge": lambda c: c >= 0,
    "eq": lambda c: c == 0,
}


@pytest.mark.parametrize("case", _params("compare"))
def test_compare(case: dict[str, Any] | None, shared_dir: Path) -> None:
    case = _portable(case, shared_dir)
    given = case["input"]
    a, b = parse_semver(given["a"]), parse_semver(given["b"])
    assert a is not None
    assert b is not None
    result = compare(a, b)
    if "op" in given:
        assert _OPS[given["op"]](result) is case["expected"]["result"]
    else:
        assert result == case["expected"]["compare"]


@pytest.mark.parametrize("case", _params("sort"))
def test_sort(case: dict[str, Any] | None, shared_dir: Path) -> None:
    case = _portable(case, shared_dir)
    versions = [parse_semver(text) for text in case["input"]["versions"]]
    assert all(v is not None for v in versions)
    ordered = sorted((v for v in versions if v is not None), key=lambda v: v.key)
    assert [str(v) for v in ordered] == case["expected"]["sorted_asc_normalised"]


def test_every_portable_kind_is_covered(shared_dir: Path) -> None:
    """A new kind in the shared file must get a test here (or be named as not portable)."""
    if not _CASES:
        pytest.skip("no cases")
    covered = {"check", "parse_constraint", "parse_version", "original", "compare", "sort"}
    assert {c["kind"] for c in _CASES} <= covered | _NOT_PORTABLE
