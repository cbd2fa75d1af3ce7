"""How a policy orders tag values: semver (range + variant), numerical, alphabetical, build time.

Each ordering ranks a value (the tag, or what the filter extracted from it) so that a
greater rank is newer, and says why a value is not a candidate. Ranks of equal versions
spelled differently (`1.20`, `1.20.0`) are equal; `tiebreak` only picks the spelling.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from image_bot.decide.bulk import (
    NOT_A_VERSION,
    TOO_PRECISE,
    Judged,
    Key,
    judge_versions,
    range_verdict,
    variant_name,
)
from image_bot.decide.ranges import Range
from image_bot.decide.versions import TagVersion, parse_tag
from image_bot.model import Fact, TagFacts

__all__ = [
    "AlphabeticalOrdering",
    "BuildTimeOrdering",
    "NumericalOrdering",
    "Ordering",
    "Ranked",
    "SemverOrdering",
    "judge_each",
]

# Go strconv.ParseFloat's decimal forms; inf, nan and hex floats are not tag values.
_FLOAT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


@dataclass(frozen=True, slots=True)
class Ranked:
    """A value's place: `key` orders versions (greater is newer), `tiebreak` spellings."""

    key: Key
    tiebreak: Key = ()


class Ordering(Protocol):
    """One way of telling which value is newer."""

    @property
    def description(self) -> str:
        """How the policy reads (`semver`, `numerical asc`) for reasons."""
        ...

    @property
    def needs(self) -> frozenset[Fact]:
        """Registry facts `rank` reads."""
        ...

    def rank(self, value: str, facts: TagFacts | None, current: str | None) -> Ranked | str | None:
        """The value's rank, why it has none (str), or None when `facts` are needed first."""
        ...

    def admit(self, value: str, current: str | None) -> str | None:
        """Why a ranked value may not be proposed (range, variant), or None."""
        ...

    def judge(
        self, values: Sequence[str], facts: Sequence[TagFacts | None], current: str | None
    ) -> Judged:
        """`rank` then `admit` for many values (`facts` is aligned with them): which are
        candidates and their rank, why the others are not, which need facts first."""
        ...

    def promotion(self, best: str, current: str | None) -> Callable[[str], bool] | None:
        """Which values to try before the best one (a spelling preference), or None.
        The best-ranked value passing the test goes first."""
        ...


def judge_each(
    ordering: Ordering, values: Sequence[str], facts: Sequence[TagFacts | None], current: str | None
) -> Judged:
    """`Ordering.judge` one value at a time through `rank` and `admit`."""
    judged = Judged([None] * len(values), [], [])
    for n, (value, known) in enumerate(zip(values, facts, strict=True)):
        ranked = ordering.rank(value, known, current)
        if ranked is None:
            judged.unranked.append(n)
        elif isinstance(ranked, str):
            judged.why[n] = ranked
        elif (why := ordering.admit(value, current)) is not None:
            judged.why[n] = why
        else:
            judged.admitted.append((n, ranked.key, ranked.tiebreak))
    return judged


@dataclass(frozen=True, slots=True)
class SemverOrdering:
    """Versions in the current tag's variant, inside `range`; pre-releases only when asked."""

    range: Range
    prerelease: bool = False
    description: str = "semver"
    needs: frozenset[Fact] = frozenset()

    def rank(self, value: str, facts: TagFacts | None, current: str | None) -> Ranked | str | None:
        version = parse_tag(value)
        if version is None:
            return NOT_A_VERSION
        now = parse_tag(current) if current is not None else None
        return Ranked(version.key, _spelling(version, now))

    def admit(self, value: str, current: str | None) -> str | None:
        version = parse_tag(value)
        if version is None:  # pragma: no cover - rank() rejected it already
            return NOT_A_VERSION
        now = parse_tag(current) if current is not None else None
        variant = now.variant if now is not None else ""
        if version.variant != variant:
            return f"variant {variant_name(version.variant)}, current has {variant_name(variant)}"
        semver = version.semver
        if semver is None:
            return TOO_PRECISE
        return range_verdict(self.range, semver, prerelease=self.prerelease)

    def judge(
        self, values: Sequence[str], facts: Sequence[TagFacts | None], current: str | None
    ) -> Judged:
        return judge_versions(
            values, current, self.range, prerelease=self.prerelease, fallback=self._judge_each
        )

    def _judge_each(self, values: Sequence[str], current: str | None) -> Judged:
        return judge_each(self, values, [None] * len(values), current)

    def promotion(self, best: str, current: str | None) -> Callable[[str], bool] | None:
        """A floating current tag keeps its spelling when the best version opens a new line:
        on `16`, 17.0.2 is proposed as `17` when that tag exists. Within its own line a
        floating tag is compared by digest instead (`16` and `16.4` are usually one image).
        """
        now = parse_tag(current) if current is not None else None
        version = parse_tag(best)
        if now is None or version is None or now.precision >= 3 or not version.is_stable:
            return None
        line, prefix = version.release[: now.precision], now.prefix
        if line == now.release:
            return None

        def spells_the_line(value: str) -> bool:
            candidate = parse_tag(value)
            return (
                candidate is not None
                and candidate.release == line
                and candidate.prefix == prefix
                and candidate.is_stable
            )

        return spells_the_line


def _spelling(version: TagVersion, current: TagVersion | None) -> Key:
    """Among equal versions prefer the current tag's spelling, then the most precise one."""
    if current is None:
        return (False, False, version.precision)
    return (
        version.prefix == current.prefix,
        version.precision == current.precision,
        version.precision,
    )


def _reverse_text(value: str) -> Key:
    # Descending byte order as an ascending key; the sentinel makes a prefix rank higher.
    return (*(-ord(char) for char in value), 1)


class _EveryValueCounts:
    """For orderings with no admission rule and no floating-tag spelling: rank each value."""

    __slots__ = ()

    def admit(self, value: str, current: str | None) -> str | None:
        return None

    def judge(
        self: Ordering,
        values: Sequence[str],
        facts: Sequence[TagFacts | None],
        current: str | None,
    ) -> Judged:
        return judge_each(self, values, facts, current)

    def promotion(self, best: str, current: str | None) -> Callable[[str], bool] | None:
        return None


@dataclass(frozen=True, slots=True)
class NumericalOrdering(_EveryValueCounts):
    """Tags read as decimal numbers (Go ParseFloat forms); `desc` prefers the smallest."""

    descending: bool = False
    needs: frozenset[Fact] = frozenset()

    @property
    def description(self) -> str:
        return "numerical " + ("desc" if self.descending else "asc")

    def rank(self, value: str, facts: TagFacts | None, current: str | None) -> Ranked | str | None:
        if _FLOAT.fullmatch(value) is None:
            return "not a number"
        number = float(value)
        return Ranked((-number if self.descending else number,))


@dataclass(frozen=True, slots=True)
class AlphabeticalOrdering(_EveryValueCounts):
    """Byte-wise order of the value; `asc` picks the greatest, `desc` the smallest."""

    descending: bool = False
    needs: frozenset[Fact] = frozenset()

    @property
    def description(self) -> str:
        return "alphabetical " + ("desc" if self.descending else "asc")

    def rank(self, value: str, facts: TagFacts | None, current: str | None) -> Ranked | str | None:
        return Ranked(_reverse_text(value) if self.descending else (value,))


@dataclass(frozen=True, slots=True)
class BuildTimeOrdering(_EveryValueCounts):
    """The image built last (config `created`) is newest; ties go to the greater tag."""

    description: str = "newest build"
    needs: frozenset[Fact] = frozenset({Fact.CREATED})

    def rank(self, value: str, facts: TagFacts | None, current: str | None) -> Ranked | str | None:
        if facts is None:
            return None
        if facts.created is None:
            return "build time unknown"
        return Ranked((facts.created.timestamp(),))
