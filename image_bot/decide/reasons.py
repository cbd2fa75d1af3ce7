"""Reasons: why each tag lost, kept in a list aligned with the sorted tag list.

A decision over 100,000 tags rejects almost all of them; a dict of reasons sorted at the
end costs more than the election. Keeping reasons by position in the sorted tag list makes
copying a list copy and listing them (`Decision.rejected`, sorted by tag) one C-level pass.
"""

from __future__ import annotations

from bisect import bisect_left
from itertools import compress, repeat
from operator import is_not, lt

__all__ = ["Reasons", "sorted_distinct"]


class Reasons:
    """Tag -> why it lost, over a fixed sorted list of distinct tags."""

    __slots__ = ("_extra", "_tags", "_why")

    def __init__(self, tags: list[str], why: list[str | None]) -> None:
        """`tags` sorted and distinct; `why[i]` is the reason of `tags[i]` (None: not lost)."""
        self._tags = tags
        self._why = why
        self._extra: dict[str, str] = {}  # tags outside the list (none in practice)

    @classmethod
    def empty(cls) -> Reasons:
        return cls([], [])

    def copy(self) -> Reasons:
        copied = Reasons(self._tags, list(self._why))
        copied._extra = dict(self._extra)
        return copied

    def _index(self, tag: str) -> int | None:
        index = bisect_left(self._tags, tag)
        return index if index < len(self._tags) and self._tags[index] == tag else None

    def get(self, tag: str) -> str | None:
        index = self._index(tag)
        return self._extra.get(tag) if index is None else self._why[index]

    def __contains__(self, tag: str) -> bool:
        return self.get(tag) is not None

    def __setitem__(self, tag: str, why: str) -> None:
        index = self._index(tag)
        if index is None:
            self._extra[tag] = why
        else:
            self._why[index] = why

    def set_at(self, index: int, why: str) -> None:
        """Set the reason of the tag at `index` in the sorted list."""
        self._why[index] = why

    def reason_at(self, index: int) -> str | None:
        return self._why[index]

    def items(self) -> tuple[tuple[str, str], ...]:
        """(tag, why) for every tag that lost, sorted by tag."""
        lost = map(is_not, self._why, repeat(None))
        listed: tuple[tuple[str, str], ...] = tuple(
            compress(zip(self._tags, self._why, strict=True), lost)  # type: ignore[arg-type]
        )
        if not self._extra:
            return listed
        return tuple(sorted((*listed, *self._extra.items())))


def sorted_distinct(tags: tuple[str, ...]) -> list[str]:
    """The tags sorted, without duplicates; registries list them sorted already (cheap)."""
    if all(map(lt, tags, tags[1:])):
        return list(tags)
    return sorted(set(tags))
