"""SemVer 2.0 values: strict and loose (Masterminds-style) parsing, precedence and sort keys.

Loose parsing is what Flux and Argo CD apply to tags and range operands: an optional `v`,
one to three numeric parts (missing ones are 0, leading zeros allowed), a pre-release and
build metadata. Numeric pre-release identifiers may not have leading zeros in either mode.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Protocol

__all__ = ["Comparable", "SemVer", "compare", "parse_semver", "prerelease_key"]

_IDENTS = r"[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*"
_LOOSE = re.compile(
    rf"v?(?P<major>[0-9]+)(?:\.(?P<minor>[0-9]+))?(?:\.(?P<patch>[0-9]+))?"
    rf"(?:-(?P<pre>{_IDENTS}))?(?:\+(?P<build>{_IDENTS}))?"
)
_NUMBER = r"(?:0|[1-9][0-9]*)"
_STRICT = re.compile(
    rf"(?P<major>{_NUMBER})\.(?P<minor>{_NUMBER})\.(?P<patch>{_NUMBER})"
    rf"(?:-(?P<pre>{_IDENTS}))?(?:\+(?P<build>{_IDENTS}))?"
)

# A pre-release identifier as a sort key: numeric ones sort before alphanumeric ones.
Identifier = tuple[int, int, str]
PreKey = tuple[int, tuple[Identifier, ...]]


def _identifier_key(part: str) -> Identifier:
    if part.isdigit() and part.isascii():
        return (0, int(part), "")
    return (1, 0, part)


@lru_cache(maxsize=4096)
def prerelease_key(pre: tuple[str, ...]) -> PreKey:
    """Sort key of a pre-release: a release (no identifiers) sorts after every pre-release."""
    if not pre:
        return (1, ())
    return (0, tuple(_identifier_key(part) for part in pre))


class Comparable(Protocol):
    """What a range reads of a version: its numbers, pre-release and precedence key."""

    @property
    def major(self) -> int: ...
    @property
    def minor(self) -> int: ...
    @property
    def patch(self) -> int: ...
    @property
    def pre(self) -> tuple[str, ...]: ...
    @property
    def key(self) -> tuple[int, int, int, PreKey]: ...


@dataclass(frozen=True, slots=True)
class SemVer:
    """A semantic version. `original` keeps the text it was parsed from (`v1.0`)."""

    major: int
    minor: int
    patch: int
    pre: tuple[str, ...] = ()
    build: tuple[str, ...] = ()
    original: str = field(default="", compare=False)

    @property
    def key(self) -> tuple[int, int, int, PreKey]:
        """Precedence key: build metadata is ignored, as SemVer 2.0 says."""
        return (self.major, self.minor, self.patch, prerelease_key(self.pre))

    @property
    def prerelease(self) -> str:
        return ".".join(self.pre)

    def __str__(self) -> str:
        text = f"{self.major}.{self.minor}.{self.patch}"
        if self.pre:
            text += "-" + ".".join(self.pre)
        if self.build:
            text += "+" + ".".join(self.build)
        return text


def _valid_pre(pre: tuple[str, ...]) -> bool:
    return not any(part.isdigit() and len(part) > 1 and part[0] == "0" for part in pre)


@lru_cache(maxsize=65536)
def parse_semver(text: str, *, strict: bool = False) -> SemVer | None:
    """Parse `text` as a SemVer (loose by default); None when it is not one.

    Loose: `v1`, `1.2`, `01.1.1`, `1.2-beta.5` are versions (missing parts are 0).
    Strict: exactly SemVer 2.0 (`MAJOR.MINOR.PATCH`, no `v`, no leading zeros).
    """
    match = (_STRICT if strict else _LOOSE).fullmatch(text)
    if match is None:
        return None
    pre = tuple(match["pre"].split(".")) if match["pre"] else ()
    if not _valid_pre(pre):
        return None
    build = tuple(match["build"].split(".")) if match["build"] else ()
    return SemVer(
        major=int(match["major"]),
        minor=int(match["minor"] or 0),
        patch=int(match["patch"] or 0),
        pre=pre,
        build=build,
        original=text,
    )


def compare(a: SemVer, b: SemVer) -> int:
    """-1, 0 or 1 as `a` has lower, equal or higher precedence than `b`."""
    return (a.key > b.key) - (a.key < b.key)
