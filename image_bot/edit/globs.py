"""Path globs relative to the root: `*` within a segment, `**/` for any depth, `?` one char."""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = ["glob_match"]


@lru_cache(maxsize=256)
def _compile(pattern: str) -> re.Pattern[str]:
    out = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out), re.DOTALL)  # a newline is a character of a name like any


def glob_match(path: str, pattern: str) -> bool:
    """True when the `/`-separated relative `path` matches `pattern` (`./` prefix ignored)."""
    return _compile(pattern.removeprefix("./")).fullmatch(path) is not None
