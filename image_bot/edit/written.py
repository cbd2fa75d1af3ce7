"""What a reference becomes when a tag and digest are written into the shape it has in its file.

The pipeline builds each `Change.new` here, and the rewrite writes exactly that value: so the
pull request (title, body, report) and the commit say the same thing. A shape that cannot
hold a digest (a config target or a setter marker that holds only a tag) drops it; a digest
alone (`nginx@sha256:...`, a kustomize `digest:` without `newTag`) stays digest alone.
"""

from __future__ import annotations

from image_bot.model import ImageRef, Occurrence, OccurrenceKind, Part
from image_bot.reference import with_tag

__all__ = ["holds_digest", "written_ref"]

_TAG_ONLY_KINDS = frozenset({OccurrenceKind.CUSTOM, OccurrenceKind.MARKER})


def written_ref(occurrence: Occurrence, tag: str | None, digest: str | None) -> ImageRef:
    """The reference `occurrence` will hold after `tag` and `digest` are written into it."""
    old, spans = occurrence.ref, occurrence.spans
    if occurrence.kind is OccurrenceKind.MARKER and Part.WHOLE in spans:
        return with_tag(old, tag, digest)  # a setter marker writes what its policy says
    digest_alone = old.tag is None and old.digest is not None and digest is not None
    if Part.WHOLE in spans:
        return with_tag(old, None if digest_alone else tag, digest)
    if Part.TAG not in spans and Part.DIGEST in spans and old.tag is None:
        return with_tag(old, None, digest)  # kustomize `digest:` with no `newTag`
    if not holds_digest(occurrence):
        digest = None
    return with_tag(old, tag, digest)


def holds_digest(occurrence: Occurrence) -> bool:
    """Whether a digest can be written into `occurrence` (in its own key, or as `tag@digest`)."""
    spans = occurrence.spans
    if Part.WHOLE in spans or Part.DIGEST in spans:
        return True
    return Part.TAG in spans and occurrence.kind not in _TAG_ONLY_KINDS
