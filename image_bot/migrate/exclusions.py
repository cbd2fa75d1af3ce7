"""Tag exclusions written as regular expressions (Flux `exclusionList`), as image-bot policy
keys: `ignore` globs when a regex says no more than a glob can, else a `filter` pattern
that refuses what they match.

Flux excludes a tag when the regex is found anywhere in it (Go `MatchString`), so an
unanchored regex becomes a glob with `*` on that side: `^.*\\.sig$` -> `*.sig`,
`1.0.2` -> `*1?0?2*` (`.` is any character, as in the regex).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from image_bot.decide.filters import FilterError, TagFilter

__all__ = ["exclusion_filter", "regex_as_globs"]

_SPECIAL = frozenset("*+?{}()[]|^$")
_QUANTIFIERS = frozenset("*+?{")
_GLOB_ESCAPES = {"*": "[*]", "?": "[?]", "[": "[[]"}
_LEADING_FLAGS = re.compile(r"^\(\?(?P<flags>[imsx]+)\)")


def _alternatives(pattern: str) -> list[str] | None:
    """`a|b` -> [a, b] at the top level; None when the regex has groups or classes."""
    parts, current, escaped = [], [], False
    for char in pattern:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            current.append(char)
            escaped = True
        elif char in "()[]":
            return None
        elif char == "|":
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def _as_glob(regex: str) -> str | None:
    starts, ends = regex.startswith("^"), regex.endswith("$") and not regex.endswith("\\$")
    body = regex[1 if starts else 0 : len(regex) - 1 if ends else len(regex)]
    pieces: list[str] = []
    index = 0
    while index < len(body):
        char, following = body[index], body[index + 1 : index + 2]
        if char == ".":
            if following in ("*", "+") and body[index + 2 : index + 3] not in _QUANTIFIERS:
                pieces.append("*" if following == "*" else "?*")
                index += 2
                continue
            if following in _QUANTIFIERS:
                return None
            pieces.append("?")
        elif char == "\\":
            if not following or following.isalnum():  # \d \w \b ...: not a literal
                return None
            if body[index + 2 : index + 3] in _QUANTIFIERS:
                return None
            pieces.append(_GLOB_ESCAPES.get(following, following))
            index += 2
            continue
        elif char in _SPECIAL or following in _QUANTIFIERS:
            return None
        else:
            pieces.append(_GLOB_ESCAPES.get(char, char))
        index += 1
    glob = ("" if starts else "*") + "".join(pieces) + ("" if ends else "*")
    while "**" in glob:
        glob = glob.replace("**", "*")
    return glob


def regex_as_globs(pattern: str) -> tuple[str, ...] | None:
    """Globs that ignore exactly the tags in which `pattern` is found, or None when the
    regex says more than globs can (classes, groups, quantifiers other than `.*`, `.+`)."""
    parts = _alternatives(pattern)
    if parts is None or any(not part for part in parts):
        return None
    globs = [_as_glob(part) for part in parts]
    if any(glob is None for glob in globs):
        return None
    return tuple(glob for glob in globs if glob is not None)


def _scoped(pattern: str) -> str:
    """A leading `(?i)` applies to this exclusion only: `(?i:...)` (Python wants global
    flags at the very start, and this pattern is put inside another)."""
    flags = _LEADING_FLAGS.match(pattern)
    if flags is None:
        return f"(?:{pattern})"
    return f"(?{flags['flags']}:{pattern[flags.end() :]})"


def exclusion_filter(
    exclusions: Sequence[str], pattern: str | None, extract: str | None = None
) -> str | None:
    """A filter pattern keeping the tags `pattern` keeps (all when None) in which no
    exclusion regex is found, with `extract` meaning what it meant; None when that cannot
    be had (it does not compile, or exclusion groups would renumber `$1`)."""
    refused = "|".join(f".*?{_scoped(exclusion)}" for exclusion in exclusions)
    combined = f"^(?!{refused})" + (f".*?(?:{pattern})" if pattern else "")
    try:
        compiled = TagFilter.compile(combined, extract).pattern
        original = TagFilter.compile(pattern, extract).pattern if pattern else None
    except FilterError:
        return None
    if original is not None and compiled.groups != original.groups:
        return None  # the exclusions' own groups would come first
    return combined
