"""A parsed YAML document as finders see it: nodes, their exact text spans, and YAML paths."""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from image_bot.edit.yaml.limits import YamlTooComplex
from image_bot.edit.yaml.spans import compose
from image_bot.model import Span
from image_bot.yaml_path import YamlPath

__all__ = [
    "NULL_TAG",
    "Lines",
    "YamlDocument",
    "block_text",
    "child",
    "embedded_documents",
    "is_templated",
    "mapping_items",
    "may_mention_image",
    "string_value",
    "walk",
]

NULL_TAG = "tag:yaml.org,2002:null"
_TEMPLATED = re.compile(r"\{\{|\$\{?[A-Za-z_]|<[^>]*>")


class Lines:
    """Line starts of a text (found on first use), to turn offsets into 1-based line and
    column (code points).
    """

    __slots__ = ("_starts", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._starts: list[int] | None = None

    @classmethod
    def of(cls, text: str) -> Lines:
        return cls(text)

    def span(self, start: int, end: int) -> Span:
        if self._starts is None:
            starts = [0]
            position = self.text.find("\n")
            while position >= 0:
                starts.append(position + 1)
                position = self.text.find("\n", position + 1)
            self._starts = starts
        line = bisect.bisect_right(self._starts, start) - 1
        return Span(start, end, line + 1, start - self._starts[line] + 1)


@dataclass(frozen=True, slots=True)
class YamlDocument:
    """One document of a file: its root node and how inner offsets map to the file's text.

    For a document embedded in a literal block scalar (`values: |`), `inner` is the block's
    value and `line_offsets[i]` is where its line `i` starts in the file's text.
    """

    path: str
    index: int
    root: Node
    text: str
    lines: Lines
    prefix: YamlPath = ()
    inner: str | None = None
    line_offsets: tuple[int, ...] = field(default=())

    @property
    def kind(self) -> str | None:
        """The document's `kind:` when it is a Kubernetes-style object."""
        value = string_value(child(self.root, "kind"))
        return value if child(self.root, "apiVersion") is not None else None

    def content_span(self, node: ScalarNode) -> Span | None:
        """The span of a scalar's characters inside its quotes, in the file's text; for a
        block scalar (`>-`, `|`) of one line, that line's text after its indentation.

        None when the written characters are not the value (escapes, folding, a block of
        several lines): `unwritable` says why.
        """
        start, end = node.start_mark.index, node.end_mark.index
        if self.inner is not None:
            start, end = self._outer(node.start_mark), self._outer(node.end_mark)
        style = node.style or ""
        if style in ("'", '"'):
            start, end = self.text.index(style, start) + 1, end - 1
        elif style in ("|", ">"):
            return self._block_line(node, start, end)
        elif style or (node.value == "" and node.tag == NULL_TAG):
            return None
        else:
            start = end - len(node.value)
        if self.text[start:end] != node.value:
            return None
        return self.lines.span(start, end)

    def unwritable(self, node: ScalarNode) -> str:
        """Why `content_span` has no span for `node`: the reason a finder reports."""
        if node.style not in ("|", ">"):
            return "written with escapes or line breaks"
        if not block_text(node):
            return "an empty block scalar"
        body = node.end_mark.line - node.start_mark.line - (node.end_mark.column == 0)
        if "\n" in block_text(node) or body > 1:
            return "a block scalar of several lines, not one reference"
        return "a block scalar inside YAML held in a block scalar"

    def _block_line(self, node: ScalarNode, start: int, end: int) -> Span | None:
        """The one line of text of a block scalar, found after its header line."""
        value = block_text(node)
        if self.inner is not None or not value or "\n" in value:
            return None
        body = self.text.find("\n", start, end) + 1
        position = self.text.find(value, body, end) if body > 0 else -1
        if position < 0 or self.text[body:position].strip(" \r\n"):
            return None
        return self.lines.span(position, position + len(value))

    def empty_value_span(self, key: ScalarNode) -> Span | None:
        """The empty span right after `key:` whose value is empty (`tag:` and nothing else)."""
        end = self._outer(key.end_mark) if self.inner is not None else key.end_mark.index
        colon = self.text.find(":", end)
        if colon < 0 or self.text[end:colon].strip():
            return None
        return self.lines.span(colon + 1, colon + 1)

    def _outer(self, mark: object) -> int:
        line, column = getattr(mark, "line", 0), getattr(mark, "column", 0)
        if line >= len(self.line_offsets):
            return len(self.text)
        return self.line_offsets[line] + column


def child(node: Node | None, key: str) -> Node | None:
    """The value under `key` in a mapping node (None when absent or not a mapping)."""
    if not isinstance(node, MappingNode):
        return None
    for key_node, value in node.value:
        if isinstance(key_node, ScalarNode) and key_node.value == key:
            return value  # type: ignore[no-any-return]
    return None


def mapping_items(node: Node | None) -> Iterator[tuple[ScalarNode, Node]]:
    """(key, value) pairs of a mapping whose keys are scalars (merge keys left out)."""
    if isinstance(node, MappingNode):
        for key_node, value in node.value:
            if isinstance(key_node, ScalarNode) and key_node.value != "<<":
                yield key_node, value


def string_value(node: Node | None) -> str | None:
    """The text of a scalar read as a string (`10`, `1.10` stay as written); None otherwise.

    Null-valued scalars (`~`, `null`, nothing) are None: they hold no value. A block scalar
    (`>-`, `|`) is its text without the final line breaks.
    """
    if not isinstance(node, ScalarNode) or node.tag == NULL_TAG:
        return None
    if node.style in ("|", ">"):
        return block_text(node)
    value: str = node.value
    return value


def block_text(node: ScalarNode) -> str:
    """A block scalar's value without its final line breaks (what `|`/`>` chomping adds)."""
    value: str = node.value
    return value.rstrip("\n")


def may_mention_image(text: str) -> bool:
    """A cheap first look: could `text` hold an image reference at all? Yes when it says
    image (any case: `image:`, `sidecarImage:`, `IMAGE:`) or `repository:` (a split mapping,
    whatever its key is called).
    """
    return "mage" in text or "MAGE" in text or "repository:" in text


def is_templated(value: str) -> bool:
    """True for Helm/Go templates, `$VAR` interpolation and `<placeholder>` values."""
    return _TEMPLATED.search(value) is not None


def embedded_documents(
    document: YamlDocument, node: ScalarNode, path: YamlPath
) -> list[YamlDocument]:
    """The YAML held in a literal block scalar (`values: |`), as documents of the same file.

    A block that is not YAML holds none; one over the parse bounds raises YamlTooComplex.
    """
    if node.style != "|" or document.inner is not None or not may_mention_image(node.value):
        return []
    text = document.text
    start = node.start_mark.index
    first_line = text.find("\n", start) + 1
    if first_line <= 0:
        return []
    raw_lines = text[first_line : node.end_mark.index].split("\n")
    inner_lines = node.value.split("\n")
    indent = _block_indent(raw_lines)
    offsets: list[int] = []
    position = first_line
    for raw in raw_lines:
        offsets.append(position + min(indent, len(raw.rstrip("\r"))))
        position += len(raw) + 1
    if len(offsets) < len(inner_lines) - 1:
        return []
    try:
        roots = compose(node.value)
    except YamlTooComplex:
        raise  # over the bound: the whole file is skipped, not just this block
    except YAMLError:
        return []
    return [
        YamlDocument(
            document.path,
            document.index,
            root,
            text,
            document.lines,
            (*path, "|"),
            node.value,
            tuple(offsets),
        )
        for root in roots
        if root is not None
    ]


def _block_indent(lines: list[str]) -> int:
    for line in lines:
        stripped = line.rstrip("\r")
        if stripped.strip():
            return len(stripped) - len(stripped.lstrip(" "))
    return 0


def walk(node: Node, path: YamlPath = ()) -> Iterator[tuple[YamlPath, Node]]:
    """Every node under `node` (itself included) with its YAML path; aliases visited once."""
    seen: set[int] = set()
    stack: list[tuple[YamlPath, Node]] = [(path, node)]
    while stack:
        here, current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield here, current
        if isinstance(current, MappingNode):
            items = [((*here, k.value), v) for k, v in mapping_items(current)]
            stack.extend(reversed(items))
        elif isinstance(current, SequenceNode):
            stack.extend(reversed([((*here, i), v) for i, v in enumerate(current.value)]))
