"""Pydantic models of the user's intent (the config file and `--policy`): data only.

Validation here is about shape; meaning (does the range parse, does the regex compile) is
checked where the value is used (`decide.build`) and reported as a ConfigError naming the field.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

__all__ = ["Duration", "FilterSpec", "PolicySpec", "parse_duration"]

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
                float(number) * _UNIT_SECONDS[unit]
                for number, unit in _DURATION_PART.findall(text)
            )
            return timedelta(seconds=seconds)
    return value


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class FilterSpec(_Strict):
    """Keep only tags matching `pattern`; order them by `extract` (`$name` or `${name}`)."""

    pattern: str
    extract: str | None = None


class PolicySpec(_Strict):
    """How to choose the tag an image moves to. Same shape in the config file and `--policy`.

    At most one ordering (`semver`, `numerical`, `alphabetical`, `newest_build`); none means
    `semver: "*"`: the newest stable version in the current tag's variant.
    """

    semver: str | None = None
    numerical: Literal["asc", "desc"] | None = None
    alphabetical: Literal["asc", "desc"] | None = None
    newest_build: bool = Field(default=False, alias="newest-build")
    filter: FilterSpec | None = None
    ignore: tuple[str, ...] = ()
    prerelease: bool = False
    digest: Literal["never", "pin", "follow"] = "never"
    min_age: Duration | None = Field(default=None, alias="min-age")
    platforms: tuple[str, ...] = ()
    allow_downgrade: bool = Field(default=False, alias="allow-downgrade")

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
