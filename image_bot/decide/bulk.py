"""Judge many tag values as versions at once: one regex pass, memos for repeated parts.

This is `SemverOrdering.rank` followed by `admit` for every value, with the same verdicts,
written for 100,000-tag repositories: values are matched by one `findall` over the joined
text, values of another variant are settled per distinct suffix, releases and range checks
are computed once per distinct text, and only candidates get a rank.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

from image_bot.decide.ranges import Range
from image_bot.decide.semver import Comparable, PreKey, prerelease_key
from image_bot.decide.versions import (
    TAG_LINES,
    TagVersion,
    glued_prerelease,
    is_git_sha,
    key_of,
    parse_tag,
    split_suffix,
)

__all__ = ["Judged", "Key", "judge_versions"]

Key = tuple[object, ...]


class Judged(NamedTuple):
    """What an ordering made of many values (indices are positions in the values)."""

    why: list[str | None]  # why each value is not a candidate; None: candidate or unranked
    admitted: list[tuple[int, Key, Key]]  # (index, key, tiebreak) of each candidate
    unranked: list[int]  # values whose facts are needed before they can be ranked


NOT_A_VERSION = "not a version"
TOO_PRECISE = "more than three release parts: not a semantic version"
PRERELEASE = "pre-release (set `prerelease: true` or name one in the range)"


def variant_name(variant: str) -> str:
    return repr(variant) if variant else "none"


class _Probe(NamedTuple):
    """A version as a range reads it, with its key computed once (cheaper than SemVer)."""

    major: int
    minor: int
    patch: int
    pre: tuple[str, ...]
    key: tuple[int, int, int, PreKey]


def range_verdict(range_: Range, version: Comparable, *, prerelease: bool) -> str | None:
    """Why `version` is outside the range (or a pre-release not opted in), or None."""
    if range_.check(version, include_prerelease=prerelease):
        return None
    if version.pre and not prerelease and range_.check(version, include_prerelease=True):
        return PRERELEASE
    return f"outside range {range_}"


def judge_versions(
    values: Sequence[str],
    current: str | None,
    range_: Range,
    *,
    prerelease: bool,
    fallback: Callable[[Sequence[str], str | None], Judged],
) -> Judged:
    """The semver verdict of each value relative to `current`.

    `fallback` judges values one by one; it is used when they cannot be joined by newlines
    (a filter's extract template may produce one).
    """
    text = "\n".join(values)
    rows = TAG_LINES.findall(text)  # one per value: (prefix, release, glued, suffix)
    if len(rows) != len(values):  # a value spans lines
        return fallback(values, current)
    now = parse_tag(current) if current is not None else None
    variant = now.variant if now is not None else ""
    suffixes = {suffix: split_suffix(suffix) for suffix in {r[3] for r in rows} if suffix}
    wrong_variant = {
        suffix: f"variant {variant_name(parts[1])}, current has {variant_name(variant)}"
        for suffix, parts in suffixes.items()
        if parts[1] != variant
    }
    if variant:  # then a tag without a suffix has the wrong variant
        wrong_variant[""] = f"variant none, current has {variant_name(variant)}"
    # Settle most values without looking further: not versions (a SHA is digits then
    # letters, so only a glued tag can be one) and versions of another variant.
    why: list[str | None] = [
        NOT_A_VERSION
        if not r[1] or (r[2] and is_git_sha(value[len(r[0]) :]))
        else wrong_variant.get(r[3])
        for r, value in zip(rows, values, strict=True)
    ]
    candidates = [n for n, reason in enumerate(why) if reason is None]
    admitted = _admit(
        candidates, rows, why, suffixes=suffixes, now=now, range_=range_, prerelease=prerelease
    )
    return Judged(why, admitted, [])


def _admit(
    candidates: list[int],
    rows: list[tuple[str, ...]],
    why: list[str | None],
    *,
    suffixes: dict[str, tuple[tuple[str, ...], str, int | None]],
    now: TagVersion | None,
    range_: Range,
    prerelease: bool,
) -> list[tuple[int, Key, Key]]:
    """(index, key, spelling) of each candidate the range admits; `why` for the others.

    Releases, range verdicts, keys and spellings are computed once per distinct value.
    """
    releases: dict[str, tuple[int, ...]] = {}
    in_range: dict[tuple[tuple[int, ...], tuple[str, ...]], str | None] = {}
    keys: dict[tuple[tuple[int, ...], tuple[str, ...], int | None], Key] = {}
    spellings: dict[tuple[str, int], Key] = {}
    admitted: list[tuple[int, Key, Key]] = []
    every_stable = range_.accepts_every_stable
    for n in candidates:
        prefix, release_text, glued, suffix = rows[n]
        pre: tuple[str, ...] = ()
        revision = None
        if glued:
            pre = glued_prerelease(release_text, glued)
        if suffix:
            dash_pre, _, revision = suffixes[suffix]
            if dash_pre:
                pre = (*pre, *dash_pre)
        release = releases.get(release_text)
        if release is None:
            release = releases[release_text] = tuple(map(int, release_text.split(".")))
        precision = len(release)
        if precision > 3:
            why[n] = TOO_PRECISE
            continue
        outside = None
        if pre or not every_stable:
            checked = (release, pre)
            if checked in in_range:
                outside = in_range[checked]
            else:
                major, minor, patch = (*release, 0, 0)[:3]
                precedence = (major, minor, patch, prerelease_key(pre))
                probe = _Probe(major, minor, patch, pre, precedence)
                outside = in_range[checked] = range_verdict(range_, probe, prerelease=prerelease)
        if outside is not None:
            why[n] = outside
            continue
        version = (release, pre, revision)
        key = keys.get(version)
        if key is None:
            key = keys[version] = key_of(release, pre, revision)
        spelling = spellings.get((prefix, precision))
        if spelling is None:
            spelling = spellings[prefix, precision] = (
                (False, False, precision)
                if now is None
                else (prefix == now.prefix, precision == now.precision, precision)
            )
        admitted.append((n, key, spelling))
    return admitted
