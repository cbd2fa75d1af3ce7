"""Build Changes the way find + decide would, for the pure publish and plan tests."""

from __future__ import annotations

from image_bot.model import Change, Occurrence, OccurrenceKind, Part, Span
from image_bot.reference import parse_reference, with_tag


def change(ref: str, new_tag: str, path: str = "apps/web/deploy.yaml", line: int = 3) -> Change:
    """`ref` found at `path:line` (a whole-reference span), moving to `new_tag`."""
    old = parse_reference(ref)
    span = Span(start=line * 10, end=line * 10 + len(ref), line=line, column=12)
    occurrence = Occurrence(
        path=path,
        document=0,
        yaml_path=("spec", "containers", 0, "image"),
        kind=OccurrenceKind.POD_SPEC,
        ref=old,
        spans={Part.WHOLE: span},
    )
    return Change(occurrence=occurrence, old=old, new=with_tag(old, new_tag))
