"""Splice new values into literal `image:` lines of a Helm template; re-read, check the rest.

A template is not YAML, so the YAML re-parse check of `rewrite` cannot run. Instead the
line reader (`templates.lines`) reads the result again: it must see the same image lines with
the same values, bar the edited ones, which must hold exactly their new value.
"""

from __future__ import annotations

from collections.abc import Sequence

from image_bot.edit.templates.lines import ImageLine, read_template
from image_bot.edit.yaml.scalars import needs_quotes
from image_bot.errors import ManifestError
from image_bot.model import Edit, FileChange

__all__ = ["rewrite_template"]


def rewrite_template(path: str, text: str, before: str, edits: Sequence[Edit]) -> FileChange:
    """`text` with `edits` (sorted, not overlapping) spliced in; ManifestError if unsafe."""
    images = read_template(text).images
    expected: dict[int, str] = {}
    for image, mine in _by_image(path, images, edits).items():
        value = _splice(image.value, mine, offset=image.start)
        _check_value(path, image, value)
        expected[image.line] = value
    after = _splice(text, edits)
    again = read_template(after)
    wanted = [(i.line, expected.get(i.line, i.value), i.quote) for i in images]
    if [(i.line, i.value, i.quote) for i in again.images] != wanted:
        raise ManifestError(path, "the edit changes more than the reference (template re-read)")
    if again.skipped != read_template(text).skipped:
        raise ManifestError(path, "the edit changes how the template reads")
    return FileChange(path, before, after, tuple(edits))


def _by_image(
    path: str, images: Sequence[ImageLine], edits: Sequence[Edit]
) -> dict[ImageLine, list[Edit]]:
    groups: dict[ImageLine, list[Edit]] = {}
    for edit in edits:
        image = next(
            (i for i in images if i.start <= edit.span.start and edit.span.end <= i.end), None
        )
        if image is None:
            raise ManifestError(path, "not a literal image value", line=edit.span.line)
        groups.setdefault(image, []).append(edit)
    return groups


def _check_value(path: str, image: ImageLine, value: str) -> None:
    """The new value must read back as itself in the value's quoting."""
    bad = {"": "", "'": "'", '"': '"\\'}[image.quote]
    if (
        "{{" in value
        or any(ch in bad or not ch.isprintable() for ch in value)
        or (not image.quote and (needs_quotes(value) or " #" in value))
    ):
        raise ManifestError(path, f"{value!r} cannot be written there as it is", line=image.line)


def _splice(text: str, edits: Sequence[Edit], *, offset: int = 0) -> str:
    for edit in sorted(edits, key=lambda e: e.span.start, reverse=True):
        start, end = edit.span.start - offset, edit.span.end - offset
        text = text[:start] + edit.new + text[end:]
    return text
