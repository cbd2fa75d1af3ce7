"""Build Occurrences from scalars: one scalar holding a whole reference, or split parts."""

from __future__ import annotations

from dataclasses import dataclass

from ruamel.yaml.nodes import Node, ScalarNode

from image_bot.edit.yaml.document import YamlDocument, is_templated, string_value
from image_bot.errors import InvalidReference
from image_bot.model import ImageRef, Occurrence, OccurrenceKind, Part, Skipped, Span
from image_bot.reference import parse_name, parse_reference
from image_bot.yaml_path import YamlPath

__all__ = ["Found", "SplitParts", "split_occurrence", "whole_occurrence"]

Found = Occurrence | Skipped


def whole_occurrence(
    document: YamlDocument,
    node: Node | None,
    path: YamlPath,
    kind: OccurrenceKind,
    *,
    skip_prefix: int = 0,
    report_invalid: bool = False,
) -> Found | None:
    """A scalar that holds `name[:tag][@digest]` (after `skip_prefix` characters, e.g. `alias=`).

    Templated values are reported as Skipped; other non-references are None unless
    `report_invalid` (then Skipped, naming the value).
    """
    value = string_value(node)
    if value is None or not isinstance(node, ScalarNode):
        return None
    text = value[skip_prefix:]
    if is_templated(value):
        return _skipped(document, node, f"templated or interpolated value {value!r}")
    span = document.content_span(node)
    if span is None and text:
        return _skipped(document, node, f"{document.unwritable(node)}: {_shown(value)}")
    try:
        ref = parse_reference(text)
    except InvalidReference as exc:
        return _skipped(document, node, exc.why + f": {_shown(value)}") if report_invalid else None
    if span is None:
        return None
    whole = Span(span.start + skip_prefix, span.end, span.line, span.column + skip_prefix)
    return Occurrence(
        document.path, document.index, document.prefix + path, kind, ref, {Part.WHOLE: whole}
    )


@dataclass(frozen=True, slots=True)
class SplitParts:
    """The scalars of a reference written in several keys (any of them may be missing)."""

    registry: Node | None = None
    name: Node | None = None
    tag: Node | None = None
    digest: Node | None = None
    tag_key: ScalarNode | None = None  # to place an empty `tag:` value


def split_occurrence(
    document: YamlDocument,
    parts: SplitParts,
    path: YamlPath,
    kind: OccurrenceKind,
    *,
    image: str | None = None,
    image_tag: str | None = None,
    report_invalid: bool = False,
) -> Found | None:
    """An Occurrence for split parts; `image` names it when no name part is given.

    `image_tag` is the tag when it is written in no part of its own (a kustomize `name:`).
    A name that is not a valid image name is None, or Skipped when `report_invalid`.
    """
    texts = {
        part: string_value(node)
        for part, node in (
            (Part.REGISTRY, parts.registry),
            (Part.NAME, parts.name),
            (Part.TAG, parts.tag),
            (Part.DIGEST, parts.digest),
        )
    }
    anchor = parts.tag or parts.name or parts.digest
    for part, value in texts.items():
        if value is not None and is_templated(value) and isinstance(anchor, ScalarNode):
            return _skipped(document, anchor, f"templated or interpolated {part}: {value!r}")
    name_text = texts[Part.NAME] or image
    if not name_text:
        return None
    if texts[Part.REGISTRY]:
        name_text = f"{texts[Part.REGISTRY].rstrip('/')}/{name_text}"  # type: ignore[union-attr]
    try:
        name = parse_name(name_text)
    except InvalidReference as exc:
        if report_invalid and isinstance(anchor, ScalarNode):
            return _skipped(document, anchor, f"{exc.why}: {name_text!r}")
        return None
    spans: dict[Part, Span] = {}
    for part, node in (
        (Part.REGISTRY, parts.registry),
        (Part.NAME, parts.name),
        (Part.TAG, parts.tag),
        (Part.DIGEST, parts.digest),
    ):
        if isinstance(node, ScalarNode) and texts[part] is not None:
            span = document.content_span(node)
            if span is None:
                reason = f"the {part} is {document.unwritable(node)}: {_shown(texts[part] or '')}"
                return _skipped(document, node, reason)
            spans[part] = span
    tag, digest = texts[Part.TAG] or image_tag, texts[Part.DIGEST]
    tag_span = _tag_span(document, parts)
    if tag_span is not None:
        spans[Part.TAG] = tag_span
    if tag is not None and "@" in tag and tag_span is not None:
        tag, _, digest = tag.partition("@")
        cut = tag_span.start + len(tag)
        spans[Part.TAG] = Span(tag_span.start, cut, tag_span.line, tag_span.column)
        column = tag_span.column + len(tag) + 1
        spans[Part.DIGEST] = Span(cut + 1, tag_span.end, tag_span.line, column)
    if not spans:
        return None
    tag = tag or None
    text = str(name_text) + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")
    ref = ImageRef(name, tag, digest or None, text)
    return Occurrence(document.path, document.index, document.prefix + path, kind, ref, spans)


def _tag_span(document: YamlDocument, parts: SplitParts) -> Span | None:
    """The tag's span; `tag: null` covers `null`, an empty `tag:` is the point after `:`."""
    if not isinstance(parts.tag, ScalarNode):
        return None
    span = document.content_span(parts.tag)
    if span is None and parts.tag_key is not None and parts.tag.value == "":
        return document.empty_value_span(parts.tag_key)
    return span


def _shown(value: str, limit: int = 80) -> str:
    """`value` for a message: repr'd, cut to `limit` characters."""
    return repr(value if len(value) <= limit else value[:limit] + "...")


def _skipped(document: YamlDocument, node: ScalarNode, reason: str) -> Skipped:
    span = document.content_span(node)
    line = span.line if span is not None else node.start_mark.line + 1
    return Skipped(document.path, reason, line)
