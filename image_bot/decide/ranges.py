"""The range grammar Flux and Argo CD users write (Masterminds/semver v3, npm-like) -> predicate.

```
range  := group ( "||" group )*
group  := term ( ( "," | whitespace ) term )*        AND
term   := op? version  |  version " - " version      hyphen range (spaces required)
op     := = != > < >= => <= =< ~ ~> ^
version:= v? part ( "." part ( "." part )? )? ( "-" prerelease )? ( "+" build )?
part   := digits | x | X | *                         missing parts are wildcards
```

Pre-releases match only when the AND-group names a pre-release in some operand (or the
caller opts in): `*` skips `1.2.3-alpha.1`, `*-0` and `>=1.0.0-0` accept it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from image_bot.decide.semver import Comparable, SemVer, parse_semver

__all__ = ["Op", "Range", "RangeError", "Term", "parse_range"]

_ZERO = (0, 0, 0, (1, ()))  # the key of 0.0.0, the lowest stable version
_PART = r"[0-9xX*]+"
_IDENTS = r"[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*"
_OPERAND = rf"v?{_PART}(?:\.{_PART})?(?:\.{_PART})?(?:-{_IDENTS})?(?:\+{_IDENTS})?"
_OPS = r"!=|>=|=>|<=|=<|~>|>|<|=|~|\^"
_TERM = rf"(?:{_OPS})?\s*{_OPERAND}"
_GROUP = re.compile(rf"\s*{_TERM}\s*(?:(?:\s+|,\s*){_TERM}\s*)*")
_FIND_TERM = re.compile(rf"(?P<op>{_OPS})?\s*(?P<operand>{_OPERAND})")
_HYPHEN = re.compile(rf"\s*(?P<low>{_OPERAND})\s+-\s+(?P<high>{_OPERAND})\s*")
_SPLIT_OPERAND = re.compile(
    rf"v?(?P<major>{_PART})(?:\.(?P<minor>{_PART}))?(?:\.(?P<patch>{_PART}))?"
    rf"(?P<pre>-{_IDENTS})?(?:\+{_IDENTS})?"
)
_WILDCARDS = frozenset({"x", "X", "*"})


class RangeError(ValueError):
    """The text is not a valid range; the message says which part."""


class Op(StrEnum):
    """A normalised comparison (aliases `=>`, `=<`, `~>` and the empty operator folded in)."""

    EQ = "="
    NE = "!="
    GT = ">"
    LT = "<"
    GE = ">="
    LE = "<="
    TILDE = "~"
    CARET = "^"


_OP_ALIASES = {"": Op.EQ, "=>": Op.GE, "=<": Op.LE, "~>": Op.TILDE}


@dataclass(frozen=True, slots=True)
class Term:
    """One comparison. `minor_dirty`/`patch_dirty` mark wildcard (or missing) parts."""

    op: Op
    version: SemVer
    dirty: bool = False
    minor_dirty: bool = False
    patch_dirty: bool = False
    text: str = ""

    def check(self, v: Comparable) -> bool:
        """Whether `v` satisfies this term (the pre-release gate is the group's job)."""
        return _CHECKS[self.op](self, v)


def _is_x(part: str | None) -> bool:
    return part is None or part in _WILDCARDS


def _parse_term(op_text: str, operand: str) -> Term:
    parts = _SPLIT_OPERAND.fullmatch(operand)
    if parts is None:
        raise RangeError(f"{operand!r} is not a version")
    pre = parts["pre"] or ""
    dirty = minor_dirty = patch_dirty = True
    if _is_x(parts["major"]):
        text, minor_dirty, patch_dirty = f"0.0.0{pre}", False, False
    elif _is_x(parts["minor"]):
        text, patch_dirty = f"{parts['major']}.0.0{pre}", False
    elif _is_x(parts["patch"]):
        text, minor_dirty = f"{parts['major']}.{parts['minor']}.0{pre}", False
    else:
        text, dirty, minor_dirty, patch_dirty = operand, False, False, False
    version = parse_semver(text)
    if version is None:
        raise RangeError(f"{operand!r} is not a version")
    op = _OP_ALIASES.get(op_text) or Op(op_text)
    return Term(op, version, dirty, minor_dirty, patch_dirty, f"{op_text}{operand}")


def _tilde(t: Term, v: Comparable) -> bool:
    c = t.version
    if v.key < c.key:
        return False
    if (c.major, c.minor, c.patch) == (0, 0, 0) and not t.minor_dirty and not t.patch_dirty:
        return True
    if v.major != c.major:
        return False
    return v.minor == c.minor or t.minor_dirty


def _equal(t: Term, v: Comparable) -> bool:
    return _tilde(t, v) if t.dirty else v.key == t.version.key


def _not_equal(t: Term, v: Comparable) -> bool:
    c = t.version
    if t.dirty:
        if c.major != v.major:
            return True
        if t.minor_dirty:
            return False
        if c.minor != v.minor:
            return True
        if t.patch_dirty:
            return bool(v.pre or c.pre) and v.pre != c.pre
    return v.key != c.key


def _greater(t: Term, v: Comparable) -> bool:
    c = t.version
    if not t.dirty:
        return v.key > c.key
    if v.major != c.major:
        return v.major > c.major
    if t.minor_dirty:
        return False  # `>11` means above the whole 11.x.x range
    if t.patch_dirty:
        return v.minor > c.minor  # `>11.1` means minor 2 or later
    return v.key > c.key


def _less_equal(t: Term, v: Comparable) -> bool:
    c = t.version
    if not t.dirty:
        return v.key <= c.key
    if v.major > c.major:
        return False
    return not (v.major == c.major and v.minor > c.minor and not t.minor_dirty)


def _caret(t: Term, v: Comparable) -> bool:
    c = t.version
    if t.dirty and not t.minor_dirty and not t.patch_dirty:
        return True  # ^* is any version
    if v.key < c.key:
        return False
    if c.major > 0 or t.minor_dirty:
        return v.major == c.major
    if v.major > 0:
        return False
    if c.minor > 0 or t.patch_dirty:
        return v.minor == c.minor
    if v.minor > 0:
        return False
    return v.patch == c.patch


_CHECKS: dict[Op, Callable[[Term, Comparable], bool]] = {
    Op.EQ: _equal,
    Op.NE: _not_equal,
    Op.GT: _greater,
    Op.LT: lambda t, v: v.key < t.version.key,
    Op.GE: lambda t, v: v.key >= t.version.key,
    Op.LE: _less_equal,
    Op.TILDE: _tilde,
    Op.CARET: _caret,
}


@dataclass(frozen=True, slots=True)
class Range:
    """An OR of AND-groups of terms; `check` says whether a version satisfies it."""

    groups: tuple[tuple[Term, ...], ...]
    text: str = ""

    @property
    def accepts_every_stable(self) -> bool:
        """Whether every stable version is inside (`*`, `x`, `>=0`): no need to check each."""
        return any(
            all(
                t.version.key == _ZERO
                and (
                    t.op is Op.GE
                    or (t.op is Op.EQ and t.dirty and not (t.minor_dirty or t.patch_dirty))
                )
                for t in group
            )
            for group in self.groups
        )

    def check(self, version: Comparable, *, include_prerelease: bool = False) -> bool:
        """True when some AND-group accepts `version` (see the pre-release rule above)."""
        gated = bool(version.pre) and not include_prerelease
        for group in self.groups:
            if gated and not any(t.version.pre for t in group):
                continue
            for term in group:  # a loop, not all(): this runs once per distinct version
                if not _CHECKS[term.op](term, version):
                    break
            else:
                return True
        return False

    def __str__(self) -> str:
        return self.text


def _expand_hyphens(group: str) -> str:
    return _HYPHEN.sub(lambda m: f" >={m['low']}, <={m['high']} ", group)


def parse_range(text: str) -> Range:
    """Parse a range; raises RangeError (a ValueError) naming the offending part."""
    if not text.strip():
        raise RangeError("empty range (use '*' for any version)")
    groups = []
    for raw in text.split("||"):
        group = _expand_hyphens(raw)
        if not _GROUP.fullmatch(group):
            raise RangeError(f"{raw.strip()!r} is not a range")
        terms = tuple(_parse_term(m["op"] or "", m["operand"]) for m in _FIND_TERM.finditer(group))
        groups.append(terms)
    return Range(tuple(groups), text)
