"""Flux setter markers: `# {"$imagepolicy": "ns:name[:tag|:name|:digest]"}` line comments."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

from ruamel.yaml.nodes import MappingNode, Node, ScalarNode

from image_bot.edit.refs import Found
from image_bot.edit.yaml.document import YamlDocument, child, string_value, walk
from image_bot.errors import InvalidReference
from image_bot.model import ImageRef, Occurrence, OccurrenceKind, Part, Skipped, Span
from image_bot.reference import parse_name, parse_reference
from image_bot.yaml_path import YamlPath

__all__ = ["SetterFinder", "parse_setter"]

MARKER = re.compile(r'#\s*\{\s*"\$imagepolicy"\s*:\s*"(?P<value>[^"]+)"\s*\}')
_SUFFIXES = {"tag": Part.TAG, "name": Part.NAME, "digest": Part.DIGEST}
_NAME_SIBLINGS = ("newName", "repository", "image", "name")


def parse_setter(value: str) -> tuple[str, Part] | None:
    """`ns:name` -> (`ns:name`, WHOLE); `ns:name:tag` -> (`ns:name`, TAG); None if malformed."""
    pieces = value.split(":")
    if len(pieces) == 2 and all(pieces):
        return value, Part.WHOLE
    if len(pieces) == 3 and all(pieces) and pieces[2] in _SUFFIXES:
        return f"{pieces[0]}:{pieces[1]}", _SUFFIXES[pieces[2]]
    return None


@dataclass(slots=True)
class _Marked:
    path: YamlPath
    node: ScalarNode
    parent: Node | None
    span: Span


class SetterFinder:
    """A scalar followed on its line by a Flux marker: the policy names what to write there.

    Markers of one policy in one mapping (`newName` + `newTag`) make one Occurrence.
    """

    kind: ClassVar[str] = OccurrenceKind.MARKER

    def find(self, document: YamlDocument) -> Iterator[Found]:
        if document.inner is not None:
            return
        text = document.text
        start, end = document.root.start_mark.index, document.root.end_mark.index
        if "$imagepolicy" not in text[start:end]:
            return
        markers: dict[int, tuple[int, str]] = {}  # line -> (comment offset, marker text)
        for match in MARKER.finditer(text, start, end):
            markers[document.lines.span(match.start(), match.start()).line] = (
                match.start(),
                match.group("value"),
            )
        marked: dict[int, _Marked] = {}  # line -> the last scalar ending before the marker
        parents: dict[int, Node] = {}
        for path, node in walk(document.root):
            if isinstance(node, MappingNode):
                for _, value in node.value:
                    parents[id(value)] = node
            if not isinstance(node, ScalarNode):
                continue
            span = document.content_span(node)
            if span is None or span.line not in markers:
                continue
            comment, _ = markers[span.line]
            best = marked.get(span.line)
            if span.end <= comment and (best is None or span.end > best.span.end):
                marked[span.line] = _Marked(path, node, parents.get(id(node)), span)
        groups: dict[tuple[int, str], dict[Part, _Marked]] = {}
        for line, item in marked.items():
            parsed = parse_setter(markers[line][1])
            if parsed is None:
                yield Skipped(document.path, f"malformed marker {markers[line][1]!r}", line)
                continue
            policy, part = parsed
            groups.setdefault((id(item.parent), policy), {})[part] = item
        for (_, policy), parts in groups.items():
            found = _occurrence(document, policy, parts)
            if found is not None:
                yield found


def _occurrence(document: YamlDocument, policy: str, parts: dict[Part, _Marked]) -> Found | None:
    first = min(parts.values(), key=lambda item: item.span.start)
    spans = {part: item.span for part, item in parts.items()}
    try:
        if Part.WHOLE in parts:
            ref = parse_reference(parts[Part.WHOLE].node.value)
            spans = {Part.WHOLE: parts[Part.WHOLE].span}
        else:
            ref = _parts_ref(parts, first.parent)
    except InvalidReference as exc:
        return Skipped(document.path, f"marker {policy!r}: {exc.why}", first.span.line)
    return Occurrence(
        document.path, document.index, first.path, OccurrenceKind.MARKER, ref, spans, policy
    )


def _parts_ref(parts: dict[Part, _Marked], parent: Node | None) -> ImageRef:
    name_text = parts[Part.NAME].node.value if Part.NAME in parts else None
    for key in _NAME_SIBLINGS if name_text is None else ():
        name_text = string_value(child(parent, key))
        if name_text:
            break
    if not name_text:
        raise InvalidReference("", "the marked value names no image")
    tag = parts[Part.TAG].node.value if Part.TAG in parts else None
    digest = parts[Part.DIGEST].node.value if Part.DIGEST in parts else None
    text = name_text + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")
    return ImageRef(parse_name(name_text), tag or None, digest or None, text)
