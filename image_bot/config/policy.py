"""How a tag is chosen (`policies`, `images[].policy`, `--policy`): PolicySpec and durations."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from image_bot.decide.build import FilterSettings, PolicySettings
from image_bot.errors import ConfigError

__all__ = ["Duration", "FilterSpec", "PolicySpec", "parse_duration", "parse_policy"]


_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(w|d|h|m|s)")
_UNIT_SECONDS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_duration(value: object) -> object:
    """Read `90m`, `36h`, `7d`, `1w2d` (or a number of seconds) as a timedelta.

    Anything else is passed through for pydantic to accept (a timedelta, ISO 8601) or reject.
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=value)
    if isinstance(value, str):
        text = value.strip().replace(" ", "")
        if text and _DURATION_PART.sub("", text) == "":
            seconds = sum(
                float(number) * _UNIT_SECONDS[unit] for number, unit in _DURATION_PART.findall(text)
            )
            return timedelta(seconds=seconds)
    return value


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "examples": ["90m", "36h", "7d", "1w2d"]},
                {"type": "number", "minimum": 0},
            ],
            "description": "A duration: `90m`, `36h`, `7d`, `1w2d`, or a number of seconds.",
        }
    ),
]


class _Strict(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        populate_by_name=True,
        defer_build=True,
    )


class FilterSpec(_Strict):
    """Keep only tags matching `pattern`; order them by `extract` (`$name` or `${name}`)."""

    pattern: str
    """Regular expression a tag must match (fully); named groups can be extracted."""
    extract: str | None = None
    """What to order by, built from the match: `$name` or `${name}` of a named group."""


class PolicySpec(_Strict):
    """How to choose the tag an image moves to. Same shape in the config file and `--policy`.

    At most one ordering (`semver`, `numerical`, `alphabetical`, `newest_build`); none means
    `semver: "*"`: the newest stable version in the current tag's variant.
    """

    semver: str | None = None
    """Semver range (Flux/Masterminds grammar): `^1.2`, `~1.25`, `>=1.0 <2`, `1.x`, `*`."""
    numerical: Literal["asc", "desc"] | None = None
    """Order tags (or the filter's extract) as numbers; `asc` picks the highest."""
    alphabetical: Literal["asc", "desc"] | None = None
    """Order tags (or the filter's extract) as text; `asc` picks the last (e.g. RFC 3339)."""
    newest_build: bool = Field(default=False, alias="newest-build")
    """Pick the most recently built image (reads each candidate's creation time)."""
    filter: FilterSpec | None = None
    """Keep only tags matching a regex, and order by a part of it."""
    ignore: tuple[str, ...] = ()
    """Glob patterns of tags never chosen (`*-rc*`, `latest`)."""
    prerelease: bool = False
    """Allow pre-release versions (`1.3.0-rc.1`) to be chosen."""
    digest: Literal["never", "pin", "follow"] = "never"
    """`pin` writes `tag@digest`; `follow` also updates the digest when a tag is re-pushed."""
    min_age: Duration | None = Field(default=None, alias="min-age")
    """Only choose images at least this old (build time, or first seen by image-bot)."""
    platforms: tuple[str, ...] = ()
    """Only choose images that exist for all of these platforms (`linux/arm64`)."""
    allow_downgrade: bool = Field(default=False, alias="allow-downgrade")
    """Allow moving to a lower version than the current one (rollback by policy)."""

    @field_validator("numerical", "alphabetical", mode="before")
    @classmethod
    def _order_any_case(cls, value: object) -> object:
        # Flux spells the order `ASC`/`DESC`; accept both spellings.
        return value.lower() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _one_ordering(self) -> PolicySpec:
        chosen = [
            name
            for name, value in (
                ("semver", self.semver),
                ("numerical", self.numerical),
                ("alphabetical", self.alphabetical),
                ("newest_build", self.newest_build or None),
            )
            if value is not None
        ]
        if len(chosen) > 1:
            msg = f"choose one ordering, not {' and '.join(chosen)}"
            raise ValueError(msg)
        return self

    def settings(self) -> PolicySettings:
        """The frozen settings `decide.build` makes a policy of."""
        wanted = self.filter
        return PolicySettings(
            semver=self.semver,
            numerical=self.numerical,
            alphabetical=self.alphabetical,
            newest_build=self.newest_build,
            filter=FilterSettings(wanted.pattern, wanted.extract) if wanted else None,
            ignore=self.ignore,
            prerelease=self.prerelease,
            digest=self.digest,
            min_age=self.min_age,
            platforms=self.platforms,
            allow_downgrade=self.allow_downgrade,
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
