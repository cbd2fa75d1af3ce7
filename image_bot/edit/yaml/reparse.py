"""Re-read a file whose new text differs from the old only inside the old references' spans.

Most commits of a manifests repository's history bump a tag or a digest. When the new text is
the old one with other plain values spliced in at the reference spans (tags, digests: letters,
digits and `._:+-`), its references are the old ones with those values, and nothing else in
the file can have changed: `respliced` builds them without parsing. Anything else (a changed
name, a new line, a value that would parse differently) returns None: parse the file.
"""

from __future__ import annotations

import dataclasses
import re

from image_bot.edit.find import FindResult
from image_bot.errors import InvalidReference
from image_bot.model import ImageRef, Occurrence, Part, Span
from image_bot.reference import is_valid_tag, parse_reference, split_reference, with_tag

__all__ = ["respliced"]

# What a value may become: no quotes, spaces, `#`, `{`, `$` or other YAML indicators. A whole
# reference keeps its `/` and `@`; a tag or digest alone has neither.
_WHOLE = re.compile(r"[A-Za-z0-9._:/@+-]+")
_PART = re.compile(r"[A-Za-z0-9._:+-]+")
_NULLS = frozenset({"null", "Null", "NULL", "~"})
_CHANGEABLE = frozenset({Part.WHOLE, Part.TAG, Part.DIGEST})


def _new_values(
    old: str, spans: list[tuple[int, int, bool]], new: str
) -> dict[int, tuple[int, str]] | None:
    """For each old span start: (new start, new value); None unless only span values moved.

    `spans` are (start, end, whole reference?) in order.
    """
    values: dict[int, tuple[int, str]] = {}
    old_at = new_at = 0
    for start, end, whole in spans:
        if start < old_at or start == end:
            return None  # overlapping or empty spans: parse
        between = old[old_at:start]
        if not new.startswith(between, new_at):
            return None
        new_at += len(between)
        found = (_WHOLE if whole else _PART).match(new, new_at)
        if found is None or found.group() in _NULLS:
            return None
        values[start] = (new_at, found.group())
        new_at += len(found.group())
        old_at = end
    return values if new[new_at:] == old[old_at:] else None


def _span(new: str, at: int, value: str, old: Span) -> Span:
    line_start = new.rfind("\n", 0, at) + 1
    return Span(at, at + len(value), old.line, at - line_start + 1)


def _ref(occurrence: Occurrence, values: dict[Part, str]) -> ImageRef | None:
    old = occurrence.ref
    if set(occurrence.spans) == {Part.WHOLE}:
        try:
            ref = parse_reference(values[Part.WHOLE])
        except InvalidReference:
            return None
        same_name = split_reference(ref.text)[0] == split_reference(old.text)[0]
        return ref if same_name and ref.name == old.name else None
    tag = values.get(Part.TAG, old.tag)
    digest = values.get(Part.DIGEST, old.digest)
    if tag is not None and not is_valid_tag(tag):
        return None
    return with_tag(old, tag, digest)


def respliced(old: str, found: FindResult, new: str) -> FindResult | None:
    """The references of `new` when it is `old` (read as `found`) with only the values at the
    references' tag, digest or whole-reference spans replaced; else None."""
    marked = sorted(
        {
            (span.start, span.end, part is Part.WHOLE)
            for o in found.occurrences
            for part, span in o.spans.items()
        }
    )
    if not marked or len({start for start, _, _ in marked}) != len(marked):
        return None
    moved = _new_values(old, marked, new)
    if moved is None:
        return None
    occurrences = []
    for occurrence in found.occurrences:
        spans: dict[Part, Span] = {}
        values: dict[Part, str] = {}
        for part, span in occurrence.spans.items():
            at, value = moved[span.start]
            if part not in _CHANGEABLE and value != old[span.start : span.end]:
                return None  # a name or registry changed: the finders decide again
            spans[part] = _span(new, at, value, span)
            values[part] = value
        ref = _ref(occurrence, values)
        if ref is None:
            return None
        occurrences.append(dataclasses.replace(occurrence, ref=ref, spans=spans))
    return dataclasses.replace(found, occurrences=tuple(occurrences))
