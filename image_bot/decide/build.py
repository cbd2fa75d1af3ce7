"""spec.PolicySpec -> Policy: the only factory; a bad value is a ConfigError naming its field."""

from __future__ import annotations

import re

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
from image_bot.spec import PolicySpec

__all__ = ["build_policy", "parse_policy"]

_PLATFORM = re.compile(r"[a-z0-9_]+/[a-z0-9_]+(?:/[a-z0-9_.]+)?")


def _ordering(spec: PolicySpec, field: str) -> Ordering:
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


def _check_combinations(spec: PolicySpec, field: str) -> None:
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


def build_policy(spec: PolicySpec, *, field: str = "policy") -> TagPolicy:
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


def parse_policy(data: object, *, source: str = "--policy") -> PolicySpec:
    """Validate a policy mapping (`None` = the default policy) into a PolicySpec.

    Shape errors become a ConfigError naming `source` and the first offending key.
    """
    try:
        return PolicySpec.model_validate({} if data is None else data)
    except ValueError as error:  # pydantic's ValidationError is a ValueError
        details = getattr(error, "errors", None)
        problems = details() if callable(details) else []
        if problems:
            first = problems[0]
            where = ".".join(str(part) for part in first.get("loc", ()))
            field = f"policy.{where}" if where else "policy"
            raise ConfigError(str(first.get("msg", error)), file=source, field=field) from None
        raise ConfigError(str(error), file=source, field="policy") from None
