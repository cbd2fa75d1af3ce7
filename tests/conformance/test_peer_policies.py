"""Flux ImagePolicy and Argo CD Image Updater tag-selection cases vs image_bot.decide.

Each peer's input is translated to the PolicySpec a user would write for the same intent;
the policy then runs the way `pipeline.decide` runs it: facts (created time, digest) are
handed over only for the tags the policy lists in `missing`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from image_bot.config import parse_policy
from image_bot.decide.build import build_policy
from image_bot.decide.filters import IgnoreList, TagFilter
from image_bot.decide.policies import Election, TagPolicy
from image_bot.decide.versions import parse_tag
from image_bot.errors import ConfigError, InvalidReference
from image_bot.model import ImageRef, TagFacts, TagList
from image_bot.reference import DOCKER_HUB, parse_reference, split_reference

pytestmark = pytest.mark.conformance

_PEERS = Path(__file__).resolve().parents[3] / "shared" / "peer-cases" / "policy"
NOW = datetime(2026, 1, 1, tzinfo=UTC)

# Intended differences, each documented in docs/policies.md ("Parity with Flux and Argo CD").
DIFFERENT = {
    "flux/construct/factory/no-policy": (
        "no ordering means `semver: '*'` (Argo CD's default); Flux requires one"
    ),
    "flux/select/numerical/with-invalid-numerical-value": (
        "non-numeric tags are skipped and listed in `rejected`; Flux fails the whole selection"
        " on one stray tag such as `latest`"
    ),
    "flux/parse/v1.0": "partial versions are versions (Masterminds, Argo CD); Flux needs x.y.z",
    "flux/parse/v1": "partial versions are versions (Masterminds, Argo CD); Flux needs x.y.z",
    "flux/parse/v1.2-5": "partial versions are versions (Masterminds, Argo CD); Flux needs x.y.z",
    "flux/parse/v1.2-beta5": "partial versions are versions (Masterminds, Argo CD)",
    "argocd/image-ref/parse-valid-image-name-with-digest-tag": (
        "digests are validated (sha256 needs 64 hex digits); `sha256:abcde` is rejected"
    ),
    "argocd/image-ref/parse-valid-image-name-with-tag-and-digest": (
        "digests are validated (sha256 needs 64 hex digits); `sha256:abcde` is rejected"
    ),
}
# Argo CD's allow-tags `kind:` prefix syntax has no counterpart: our filter is always a regex.
NOT_EXPRESSIBLE = {"argocd/allow-tags/other", "argocd/allow-tags/not-regexp:a-z"}


def _load(name: str) -> list[dict[str, Any]]:
    path = _PEERS / name
    cases: list[dict[str, Any]] = json.loads(path.read_text())["cases"] if path.is_file() else []
    return cases


FLUX = _load("flux.json")
ARGOCD = _load("argocd.json")


def _params(cases: list[dict[str, Any]], *kinds: str) -> list[Any]:
    chosen = [c for c in cases if c["kind"] in kinds]
    if not chosen:
        return [pytest.param(None, id="shared-peer-cases-absent")]
    params = []
    for case in chosen:
        marks = []
        if case["id"] in DIFFERENT:
            marks.append(pytest.mark.xfail(reason=DIFFERENT[case["id"]], strict=True))
        params.append(pytest.param(case, id=case["id"], marks=marks))
    return params


def _case(case: dict[str, Any] | None, shared_dir: Path) -> dict[str, Any]:
    assert shared_dir.is_dir()
    if case is None:
        pytest.skip("no cases")
    if case["id"] in NOT_EXPRESSIBLE:
        pytest.skip("Argo CD allow-tags kind syntax; image-bot filters are plain regexes")
    if case.get("peer_specific"):
        pytest.skip(f"peer specific: {case.get('reason', '')}")
    return case


def resolve(
    policy: TagPolicy, current: ImageRef, tags: TagList, known: Mapping[str, TagFacts]
) -> tuple[Election, TagList]:
    """Run `elect` like pipeline.decide: hand over facts only for the tags it asks about."""
    facts: dict[str, TagFacts] = {}
    for _ in range(64):
        with_facts = TagList(tags.image, tags.tags, dict(facts))
        election = policy.elect(current, with_facts, now=NOW)
        if not election.missing:
            return election, with_facts
        facts.update({tag: known.get(tag, TagFacts()) for tag in election.missing})
    raise AssertionError("the policy kept asking for facts")


# --- Flux ------------------------------------------------------------------------------------


def _flux_spec(policy: dict[str, Any] | None, filter_: dict[str, Any] | None) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    if policy is not None:
        kind = policy["type"]
        spec[kind] = policy["range"] if kind == "semver" else (policy["order"] or "asc")
    if filter_ is not None:
        spec["filter"] = {"pattern": filter_["pattern"], "extract": filter_["extract"] or None}
    return spec


def _flux_build(policy: dict[str, Any] | None, filter_: dict[str, Any] | None) -> TagPolicy:
    return build_policy(parse_policy(_flux_spec(policy, filter_)).settings())


@pytest.mark.parametrize("case", _params(FLUX, "construct"))
def test_flux_construct(case: dict[str, Any] | None, shared_dir: Path) -> None:
    case = _case(case, shared_dir)
    try:
        _flux_build(case["input"]["policy"], None)
    except ConfigError:
        assert case["expected"]["error"] is True
    else:
        assert case["expected"]["error"] is False


@pytest.mark.parametrize("case", _params(FLUX, "select"))
def test_flux_select(case: dict[str, Any] | None, shared_dir: Path) -> None:
    case = _case(case, shared_dir)
    given, expected = case["input"], case["expected"]
    try:
        policy = _flux_build(given["policy"], given["filter"])
    except ConfigError as error:
        assert expected.get("error") is True
        assert expected.get("error_contains", "") in str(error)
        return
    current = parse_reference("registry.example/app")
    election, _ = resolve(policy, current, TagList(current.name, tuple(given["tags"])), {})
    if expected.get("error"):
        assert election.tag is None, election.reason  # no selection (Flux reports an error)
    else:
        assert election.tag == expected["tag"], election.reason


@pytest.mark.parametrize("case", _params(FLUX, "filter"))
def test_flux_filter(case: dict[str, Any] | None, shared_dir: Path) -> None:
    case = _case(case, shared_dir)
    given = case["input"]["filter"]
    tag_filter = TagFilter.compile(given["pattern"], given["extract"] or None)
    values = {tag_filter.value(tag) for tag in case["input"]["tags"]} - {None}
    assert sorted(v for v in values if v is not None) == case["expected"]["items_sorted"]


@pytest.mark.parametrize("case", _params(FLUX, "parse"))
def test_flux_parse(case: dict[str, Any] | None, shared_dir: Path) -> None:
    case = _case(case, shared_dir)
    version = parse_tag(case["input"]["tag"])
    usable = version is not None and version.semver is not None
    assert usable is case["expected"]["valid"]


@pytest.mark.parametrize("case", _params(FLUX, "sort"))
def test_flux_sort(case: dict[str, Any] | None, shared_dir: Path) -> None:
    _case(case, shared_dir)  # the only sort case is peer specific (input-order ties)


# --- Argo CD ---------------------------------------------------------------------------------


def _argocd_tags(rows: list[dict[str, Any]]) -> tuple[tuple[str, ...], dict[str, TagFacts]]:
    known: dict[str, TagFacts] = {}
    for row in rows:  # a later row with the same name replaces the earlier one
        created = datetime.fromtimestamp(row["created"], UTC)
        known[row["name"]] = TagFacts(digest=row.get("digest"), created=created)
    return tuple(known), known


_STRATEGIES = {"semver": "semver", "newest-build": "newest_build", "latest": "newest_build"}


def _argocd_policy(strategy: str, constraint: str) -> TagPolicy:
    if strategy in {"alphabetical", "name"}:
        return build_policy(parse_policy({"alphabetical": "asc"}).settings())
    if _STRATEGIES[strategy] == "newest_build":
        return build_policy(parse_policy({"newest_build": True}).settings())
    # Argo CD substitutes '*' for an empty constraint: our default policy.
    return build_policy(parse_policy({"semver": constraint} if constraint else {}).settings())


@pytest.mark.parametrize("case", _params(ARGOCD, "select"))
def test_argocd_select(case: dict[str, Any] | None, shared_dir: Path) -> None:
    case = _case(case, shared_dir)
    given, expected = case["input"], case["expected"]
    try:
        policy = _argocd_policy(given["strategy"], given["constraint"])
    except ConfigError:
        assert expected.get("error") is True
        return
    assert not expected.get("error")
    current = parse_reference(given["current_image"])
    names, known = _argocd_tags(given["tags"])
    election, with_facts = resolve(policy, current, TagList(current.name, names), known)
    if election.tag is None and expected["tag"] == current.tag:
        # Argo CD returns the newest tag even when it is the current one; we stay put.
        assert policy.ranked(current, with_facts)[0] == current.tag, election.reason
    else:
        assert election.tag == expected["tag"], election.reason


_ORDERS = {"alphabetical": "alphabetical", "semver": "semver", "date": "newest-build"}


@pytest.mark.parametrize("case", _params(ARGOCD, "sort"))
def test_argocd_sort(case: dict[str, Any] | None, shared_dir: Path) -> None:
    case = _case(case, shared_dir)
    policy = _argocd_policy(_ORDERS[case["input"]["order"]], "")
    names, known = _argocd_tags(case["input"]["tags"])
    current = parse_reference("registry.example/app")
    best_first = policy.ranked(current, TagList(current.name, names, known))
    assert list(reversed(best_first)) == case["expected"]["sorted_asc"]


@pytest.mark.parametrize("case", _params(ARGOCD, "match"))
def test_argocd_allow_tags(case: dict[str, Any] | None, shared_dir: Path) -> None:
    case = _case(case, shared_dir)
    expression: str = case["input"]["allow_tags"]
    kind, _, pattern = expression.partition(":")
    if expression.lower() == "any":
        pattern = ""
    assert kind.lower() in {"any", "regexp"}
    try:
        tag_filter = TagFilter.compile(pattern, None)
    except ValueError:
        allowed = False  # we refuse the policy at load time; Argo CD silently matches nothing
    else:
        allowed = tag_filter.value(case["input"]["tag"]) is not None
    assert allowed is case["expected"]["allowed"]


@pytest.mark.parametrize("case", _params(ARGOCD, "ignore"))
def test_argocd_ignore_tags(case: dict[str, Any] | None, shared_dir: Path) -> None:
    case = _case(case, shared_dir)
    ignored = IgnoreList(tuple(case["input"]["ignore_tags"])).match(case["input"]["tag"])
    assert (ignored is not None) is case["expected"]["ignored"]


def _argocd_image_spec(spec: str) -> tuple[str, str]:
    """`[alias=]image[:constraint]` -> (image, constraint)."""
    image = spec.partition("=")[2] or spec
    name, constraint, _ = split_reference(image)
    return name, constraint or ""


@pytest.mark.parametrize("case", _params(ARGOCD, "update"))
def test_argocd_update(case: dict[str, Any] | None, shared_dir: Path) -> None:
    case = _case(case, shared_dir)
    given, expected = case["input"], case["expected"]
    _, constraint = _argocd_image_spec(given["image_spec"])
    try:
        policy = _argocd_policy(given["strategy"], constraint)
    except ConfigError:
        assert expected["outcome"] == "error"
        return
    current = parse_reference(given["live_image"])
    tags = TagList(current.name, tuple(given["registry_tags"]))
    election, with_facts = resolve(policy, current, tags, {})
    decision = policy.choose(current, with_facts, now=NOW)
    if election.tag is not None:
        assert expected["outcome"] == "updated"
        assert decision.target is not None
        assert decision.target.tag == expected.get("new_tag", decision.target.tag)
        assert str(decision.target) == expected.get("new_image", str(decision.target))
    elif policy.ranked(current, tags):
        assert expected["outcome"] == "up-to-date", election.reason
    else:
        assert expected["outcome"] == "skipped", election.reason


def _as_written(ref: ImageRef) -> tuple[str, str]:
    """(registry, repository) as the user spelled them; registry '' when implied."""
    name_text = split_reference(ref.text)[0]
    first, _, rest = name_text.partition("/")
    if rest and (ref.name.registry != DOCKER_HUB or first == DOCKER_HUB):
        return first, rest
    return "", name_text


@pytest.mark.parametrize("case", _params(ARGOCD, "image_ref"))
def test_argocd_image_ref(case: dict[str, Any] | None, shared_dir: Path) -> None:
    case = _case(case, shared_dir)
    try:
        ref = parse_reference(case["input"]["identifier"])
    except InvalidReference as error:
        pytest.fail(str(error))
    registry, name = _as_written(ref)
    tag = "" if ref.tag is None and ref.digest is not None else ref.tag
    without_tag = split_reference(ref.text)[0]
    got = {
        "registry": registry,
        "alias": "",
        "name": name,
        "tag": tag,
        "digest": ref.digest,
        "tag_with_digest": f"{ref.tag or 'latest'}@{ref.digest}",
        "full_with_tag": ref.text,
        "full_without_tag": without_tag,
    }
    assert {key: got[key] for key in case["expected"]} == case["expected"]
