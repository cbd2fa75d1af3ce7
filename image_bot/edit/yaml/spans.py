"""ruamel.yaml load for node marks -> exact text spans; never dumps."""

from __future__ import annotations

import contextlib
import re
import threading
import time
import warnings
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.resolver import VersionedResolver
from ruamel.yaml.tag import Tag

from image_bot.edit.yaml.limits import MANIFEST_LIMITS, YamlLimits, YamlTooComplex, check_limits

__all__ = [
    "MERGE_TAG",
    "STR_TAG",
    "Document",
    "Scalar",
    "Style",
    "Tree",
    "compose",
    "index_text",
    "same_tag",
]

STR_TAG = "tag:yaml.org,2002:str"
MERGE_TAG = "tag:yaml.org,2002:merge"
_DOCUMENT_END = re.compile(r"^\.\.\.(?=[ \t\r\n#]|$).*$", re.MULTILINE)


class Style(StrEnum):
    """How a scalar is written in the file."""

    PLAIN = ""
    SINGLE = "'"
    DOUBLE = '"'
    LITERAL = "|"
    FOLDED = ">"


@dataclass(frozen=True, slots=True)
class Scalar:
    """One scalar node: its region (anchor, tag and quotes included) and its content region."""

    start: int
    end: int
    content_start: int
    content_end: int
    style: Style
    flow: bool
    node: ScalarNode


@dataclass(frozen=True, slots=True)
class Document:
    """A non-empty document: the text region to re-parse it alone, which ends with its root."""

    start: int
    end: int
    root: Node
    count: int  # documents the region parses to: empty ones before it, then this one


class Tree:
    """A composed text: document regions and roots, problems, the quote style the file
    prefers, and (built on first use) all its scalars by offset.
    """

    __slots__ = ("_scalars", "documents", "literals", "prefer", "problems", "text")

    def __init__(
        self,
        text: str,
        documents: tuple[Document, ...],
        problems: tuple[str, ...],
        literals: tuple[ScalarNode, ...],
        prefer: Style,
    ) -> None:
        self.text = text
        self.documents = documents
        self.problems = problems
        self.literals = literals  # `|` block scalars: they may hold YAML of their own
        self.prefer = prefer  # quotes to add: the file's majority, double when none
        self._scalars: tuple[Scalar, ...] | None = None

    @property
    def scalars(self) -> tuple[Scalar, ...]:
        """Every scalar (aliases once), sorted by offset."""
        if self._scalars is None:
            found = [
                _scalar(self.text, node, flow)
                for document in self.documents
                for node, flow in _scalar_nodes(document.root)
            ]
            found.sort(key=lambda s: s.start)
            self._scalars = tuple(found)
        return self._scalars

    def enclosing(self, start: int, end: int) -> Scalar | None:
        """The scalar whose region holds `[start, end)`, if any (regions never overlap)."""
        for document in self.documents:
            found = _descend(document.root, start, end)
            if found is not None:
                return _scalar(self.text, *found)
        return None

    def empty_at(self, position: int) -> Scalar | None:
        """The empty (null) scalar ruamel placed at `position`, if any."""
        found = self.enclosing(position, position)
        if found is None or found.start != position or found.end != position:
            return None
        return found


def _descend(node: Node, start: int, end: int) -> tuple[ScalarNode, bool] | None:
    """Walk down from `node` to the scalar holding `[start, end)`: the child that holds it and
    starts last, at each level (a key ending where a value starts holds no part of it).
    """
    flow = False
    while True:
        if not node.start_mark.index <= start <= end <= node.end_mark.index:
            return None
        if isinstance(node, ScalarNode):
            return node, flow
        flow = flow or bool(getattr(node, "flow_style", False))
        if isinstance(node, MappingNode):
            children = [item for pair in node.value for item in pair]
        elif isinstance(node, SequenceNode):
            children = node.value
        else:
            return None
        best = None
        for item in children:
            first, last = item.start_mark.index, item.end_mark.index
            if first <= start and end <= last and (best is None or first >= best.start_mark.index):
                best = item
        if best is None:
            return None
        node = best


def compose(text: str, limits: YamlLimits = MANIFEST_LIMITS) -> list[Node | None]:
    """The documents of `text` as ruamel nodes (raises ruamel's YAMLError).

    ruamel's C parser (libyaml) is used when installed: it is an order of magnitude faster and
    gives the same scalar offsets. Where it refuses (YAML 1.2-only syntax such as `:` in flow
    plain scalars) or offsets would differ (a BOM), the pure-Python parser decides. Both put an
    empty value at a different place (after the `:` or at the next token); callers allow both.
    ruamel warns about anchors defined twice (valid YAML 1.2); that is not our concern here.
    YamlTooComplex (a YAMLError) when the documents exceed `limits`: every parse of file
    content goes through here, so no caller walks an alias bomb or a 10,000-level nesting.
    """
    started = time.monotonic()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            roots = None
            if not text.startswith("\ufeff"):
                with contextlib.suppress(YAMLError):
                    roots = _compose_with(_yaml(pure=False), text)
            if roots is None:
                roots = _compose_with(_yaml(pure=True), text)
    except RecursionError:  # the pure-Python composer recurses per level
        _LOCAL.__dict__.clear()  # a loader stopped anywhere in its stack is not reused
        raise YamlTooComplex(f"nested deeper than {limits.depth} levels") from None
    check_limits(roots, limits, started)
    return roots


def _compose_with(yaml: YAML, text: str) -> list[Node | None]:
    try:
        return list(yaml.compose_all(text))
    finally:
        yaml.doc_infos.clear()  # a reused loader keeps one entry per parse otherwise


@lru_cache(maxsize=4)
def index_text(text: str) -> Tree:
    """Compose `text` once and index it (cached: a big file is read for many refs)."""
    documents = []
    problems: list[str] = []
    literals: list[ScalarNode] = []
    quotes = {"'": 0, '"': 0}
    previous_end = 0
    empty = 0
    for root in compose(text):
        if root is None:
            empty += 1
            continue
        start, end = previous_end, root.end_mark.index
        for marker in _DOCUMENT_END.finditer(text, start, root.start_mark.index):
            start = marker.end()  # a slice must not begin with the previous document's `...`
        documents.append(Document(start, end, root, empty + 1))
        previous_end, empty = end, 0
        _check(root, problems, literals, quotes)
    prefer = Style.SINGLE if quotes["'"] > quotes['"'] else Style.DOUBLE
    return Tree(text, tuple(documents), tuple(problems), tuple(literals), prefer)


_Table = dict[str | None, list[tuple[str, re.Pattern[str]]]]


class _Resolver(VersionedResolver):
    """ruamel's YAML 1.2 resolver with its rule table looked up once per parse.

    The stock one looks the table up for every scalar, and under the C parser each lookup
    raises and catches an AttributeError (there is no Python scanner to ask for a `%YAML`
    directive): most of the parse time. Documents are read as YAML 1.2 either way. Resolved
    tags are shared objects, so comparing two nodes' tags is cheap.
    """

    @property
    def versioned_resolver(self) -> _Table:
        table: _Table = VersionedResolver.versioned_resolver.fget(self)  # type: ignore[attr-defined]
        return table

    def resolve(self, kind: type[Node], value: str, implicit: tuple[bool, bool]) -> Tag:
        if kind is ScalarNode and implicit[0] and not self.yaml_path_resolvers:
            rules = _RULES or _rules(self.versioned_resolver)
            for suffix, pattern in rules.get(value[:1], rules[None]):
                if pattern.match(value):
                    return _shared_tag(suffix)
            return _shared_tag(STR_TAG)
        resolved: Tag = super().resolve(kind, value, implicit)
        return resolved


_RULES: dict[str | None, tuple[tuple[str, re.Pattern[str]], ...]] = {}


def _rules(table: _Table) -> dict[str | None, tuple[tuple[str, re.Pattern[str]], ...]]:
    """The YAML 1.2 rules by first character, the catch-all ones appended (built once)."""
    anywhere = tuple(table.get(None, ()))
    _RULES.update({first: (*found, *anywhere) for first, found in table.items()})
    _RULES[None] = anywhere
    return _RULES


_LOCAL = threading.local()


def _yaml(*, pure: bool) -> YAML:
    """One loader per thread and kind (making one globs ruamel's plug-in folders each time)."""
    cached: YAML | None = getattr(_LOCAL, f"pure_{pure}", None)
    if cached is None:
        cached = YAML(typ="safe", pure=pure)
        cached.Resolver = _Resolver
        setattr(_LOCAL, f"pure_{pure}", cached)
    return cached


@lru_cache(maxsize=64)
def _shared_tag(suffix: str) -> Tag:
    return Tag(suffix=suffix)


def same_tag(a: Node, b: Node) -> bool:
    """The two nodes carry the same tag (cheap: resolved tags are shared objects)."""
    first, second = a.ctag, b.ctag
    return first is second or (first.handle, first.suffix) == (second.handle, second.suffix)


def _check(
    root: Node, problems: list[str], literals: list[ScalarNode], quotes: dict[str, int]
) -> None:
    """Note duplicate and non-scalar keys, collect `|` scalars and count quoted ones (aliases
    visited once).
    """
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, ScalarNode):
            style = node.style
            if style == "|":
                literals.append(node)
            elif style in quotes:
                quotes[style] += 1
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, MappingNode):
            keys: dict[str, Node] = {}
            for key, value in node.value:
                stack.append(value)
                if not isinstance(key, ScalarNode):
                    problems.append(f"a non-scalar mapping key on line {key.start_mark.line + 1}")
                    stack.append(key)
                    continue
                if key.style in quotes:
                    quotes[key.style] += 1
                earlier = keys.setdefault(key.value, key)
                if earlier is not key and key.tag == earlier.tag and key.tag != MERGE_TAG:
                    line = key.start_mark.line + 1
                    problems.append(f"duplicate key {key.value!r} on line {line}")


def _scalar_nodes(root: Node) -> list[tuple[ScalarNode, bool]]:
    """Every scalar under `root` with whether it sits in flow style (aliases once)."""
    seen: set[int] = set()
    out: list[tuple[ScalarNode, bool]] = []
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, flow = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, ScalarNode):
            out.append((node, flow))
            continue
        inner = flow or bool(getattr(node, "flow_style", False))
        if isinstance(node, SequenceNode):
            stack.extend((item, inner) for item in node.value)
        elif isinstance(node, MappingNode):
            for key, value in node.value:
                stack.append((key, inner))
                stack.append((value, inner))
    return out


_STYLES = {style.value: style for style in Style}


def _scalar(text: str, node: ScalarNode, flow: bool) -> Scalar:
    start, end = node.start_mark.index, node.end_mark.index
    style = _STYLES[node.style or ""]
    if style in (Style.SINGLE, Style.DOUBLE):
        content_start, content_end = text.index(style.value, start) + 1, end - 1
    elif style is Style.PLAIN and text[start:end].endswith(node.value):
        content_start, content_end = end - len(node.value), end
    else:
        content_start, content_end = start, end
    return Scalar(start, end, content_start, content_end, style, flow, node)
