"""Tag filters: regex filter + extract (tag -> value), ignore globs, min_age and platforms.

The filter follows Flux `filterTags`: the pattern is searched (not anchored) and the
extract template uses Go `Regexp.Expand` syntax (`$1`, `$name`, `${name}`, `$$`), so Flux
policies keep working. Unlike Go, a template naming a group the pattern lacks is an error
at load time instead of a silent empty value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Set
from dataclasses import dataclass
from datetime import datetime, timedelta
from fnmatch import fnmatchcase

from image_bot.model import TagFacts

__all__ = [
    "FilterError",
    "IgnoreList",
    "TagFilter",
    "age_of",
    "missing_platforms",
]

_GO_NAMED_GROUP = re.compile(r"\(\?<(?=[A-Za-z_])")
_TEMPLATE_REF = re.compile(r"\$(?:\$|\{(?P<braced>[A-Za-z0-9_]+)\}|(?P<bare>[A-Za-z0-9_]+))")


class FilterError(ValueError):
    """A pattern or template that cannot be used; `part` is `pattern` or `extract`."""

    def __init__(self, part: str, message: str) -> None:
        self.part = part
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class TagFilter:
    """Keep tags the pattern matches; map each to its `extract` expansion (or itself)."""

    pattern: re.Pattern[str]
    extract: str

    @classmethod
    def compile(cls, pattern: str, extract: str | None) -> TagFilter:
        """Compile `pattern` (Go RE2 syntax is accepted) and check `extract` against it."""
        try:
            compiled = re.compile(_GO_NAMED_GROUP.sub("(?P<", pattern))
        except re.error as error:
            raise FilterError("pattern", f"invalid regular expression pattern: {error}") from None
        template = extract or ""
        for match in _TEMPLATE_REF.finditer(template):
            name = match["braced"] or match["bare"]
            if name is None:
                continue
            known = name in compiled.groupindex or (name.isdigit() and int(name) <= compiled.groups)
            if not known:
                raise FilterError("extract", f"${name} names no group of the pattern")
        return cls(compiled, template)

    def value(self, tag: str) -> str | None:
        """The value the policy orders `tag` by, or None when the pattern does not match."""
        match = self.pattern.search(tag)
        if match is None:
            return None
        if not self.extract:
            return tag

        def expand(ref: re.Match[str]) -> str:
            name = ref["braced"] or ref["bare"]
            if name is None:
                return "$"
            group = int(name) if name.isdigit() else name
            return match.group(group) or ""

        return _TEMPLATE_REF.sub(expand, self.extract)


def _glob(pattern: str) -> str:
    # Go's filepath.Match negates a class with `^`; fnmatch spells it `!`.
    return pattern.replace("[^", "[!")


@dataclass(frozen=True, slots=True)
class IgnoreList:
    """Shell globs (`*`, `?`, `[...]`) matched against the whole tag, case-sensitively."""

    patterns: tuple[str, ...] = ()

    def match(self, tag: str) -> str | None:
        """The first pattern that ignores `tag`, or None."""
        for pattern in self.patterns:
            if fnmatchcase(tag, _glob(pattern)):
                return pattern
        return None


def age_of(facts: TagFacts, now: datetime) -> timedelta | None:
    """How long ago the image was first seen by the bot (else built); None when unknown."""
    since = facts.first_seen or facts.created
    return None if since is None else now - since


def _platform_matches(wanted: str, offered: str) -> bool:
    if wanted == offered:
        return True
    # `linux/arm64` is satisfied by `linux/arm64/v8`; `linux/arm/v7` needs that variant.
    return offered.startswith(wanted + "/") and wanted.count("/") == 1


def missing_platforms(wanted: Iterable[str], offered: Set[str]) -> tuple[str, ...]:
    """The wanted platforms (`os/arch[/variant]`) that `offered` does not include."""
    return tuple(w for w in wanted if not any(_platform_matches(w, o) for o in offered))
