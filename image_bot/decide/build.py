"""PolicySettings -> Policy: the only factory; a bad value is a ConfigError naming its field.

PolicySettings are frozen values the config layer builds from its `PolicySpec` (as scanning
receives `RegistrySettings`), so deciding never sees the config models.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from image_bot.decide.filters import FilterError, IgnoreList, TagFilter
from image_bot.decide.orderings import (
    AlphabeticalOrdering,
    BuildTimeOrdering,
    NumericalOrdering,
    Ordering,
    SemverOrdering,
)
from image_bot.decide.policies import DigestMode, TagPolicy
from image_bot.decide.ranges import RangeError, parse_range
from image_bot.errors import ConfigError

__all__ = ["FilterSettings", "PolicySettings", "build_policy"]

_PLATFORM = re.compile(r"[a-z0-9_]+/[a-z0-9_]+(?:/[a-z0-9_.]+)?")


@dataclass(frozen=True, slots=True)
class FilterSettings:
    """Keep tags matching `pattern` (fully); order by `extract` (`$name`) when given."""

    pattern: str
    extract: str | None = None


@dataclass(frozen=True, slots=True)
class PolicySettings:
    """How to choose an image's tag; the meaning of each field is `config.PolicySpec`'s."""

    semver: str | None = None
    numerical: Literal["asc", "desc"] | None = None
    alphabetical: Literal["asc", "desc"] | None = None
    newest_build: bool = False
    filter: FilterSettings | None = None
    ignore: tuple[str, ...] = ()
    prerelease: bool = False
    digest: Literal["never", "pin", "follow"] = "never"
    min_age: timedelta | None = None
    platforms: tuple[str, ...] = ()
    allow_downgrade: bool = False


def _ordering(spec: PolicySettings, field: str) -> Ordering:
    if spec.numerical is not None:
        return NumericalOrdering(descending=spec.numerical == "desc")
    if spec.alphabetical is not None:
        return AlphabeticalOrdering(descending=spec.alphabetical == "desc")
    if spec.newest_build:
        return BuildTimeOrdering()
    text = "*" if spec.semver is None else spec.semver
    try:
        return SemverOrdering(parse_range(text), prerelease=spec.prerelease)
    except RangeError as error:
        raise ConfigError(f"invalid range {text!r}: {error}", field=f"{field}.semver") from None


def _check_combinations(spec: PolicySettings, field: str) -> None:
    ordered = spec.numerical or spec.alphabetical or spec.newest_build
    if spec.digest == "follow" and (ordered or spec.semver is not None or spec.filter):
        raise ConfigError(
            "`digest: follow` tracks the current tag's digest; it takes no ordering or filter",
            field=f"{field}.digest",
        )
    if spec.prerelease and ordered:
        raise ConfigError("`prerelease` only applies to semver ranges", field=f"{field}.prerelease")
    for platform in spec.platforms:
        if not _PLATFORM.fullmatch(platform):
            raise ConfigError(
                f"{platform!r} is not os/arch[/variant] (e.g. linux/arm64)",
                field=f"{field}.platforms",
            )
    if spec.min_age is not None and spec.min_age.total_seconds() < 0:
        raise ConfigError("min_age cannot be negative", field=f"{field}.min_age")


def build_policy(spec: PolicySettings, *, field: str = "policy") -> TagPolicy:
    """Build the policy `spec` describes; raises ConfigError(field=`<field>.<key>`) (exit 2)."""
    _check_combinations(spec, field)
    tag_filter = None
    if spec.filter is not None:
        try:
            tag_filter = TagFilter.compile(spec.filter.pattern, spec.filter.extract)
        except FilterError as error:
            raise ConfigError(str(error), field=f"{field}.filter.{error.part}") from None
    return TagPolicy(
        ordering=_ordering(spec, field),
        tag_filter=tag_filter,
        ignore=IgnoreList(tuple(spec.ignore)),
        digest=DigestMode(spec.digest),
        min_age=spec.min_age,
        platforms=tuple(spec.platforms),
        allow_downgrade=spec.allow_downgrade,
    )
