"""YAML scalars: where each sits, when a new value needs quotes, what else a re-parse moved."""

from __future__ import annotations

import re
import threading
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.resolver import VersionedResolver
from ruamel.yaml.tag import Tag

__all__ = [
    "EMBEDDED",
    "STR_TAG",
    "Document",
    "Scalar",
    "Style",
    "Tree",
    "compose",
    "difference",
    "index_text",
    "needs_quotes",
    "quote",
    "render",
]

STR_TAG = "tag:yaml.org,2002:str"
EMBEDDED = object()  # the expected value of an edited block scalar that holds YAML
_CORE = "tag:yaml.org,2002:"
_MERGE_TAG = "tag:yaml.org,2002:merge"


class Style(StrEnum):
    """How a scalar is written in the file."""

    PLAIN = ""
    SINGLE = "'"
    DOUBLE = '"'
    LITERAL = "|"
    FOLDED = ">"


# Values that YAML 1.1 or 1.2 resolves to something other than a string when plain. The
# rules are a little wider than either spec (case-insensitive words, `_` anywhere in
# numbers): quoting a string that did not need it is harmless, the reverse changes its type.
_NON_STRING = re.compile(
    r"""
    (?: [-+]? [0-9][0-9_]* (?:\.[0-9_]*)? (?:[eE][-+]?[0-9]+)?     # 10, 1.10, 1_000, 2e5, 1.
      | [-+]? \.[0-9][0-9_]* (?:[eE][-+]?[0-9]+)?                   # .5
      | [-+]? 0[xX][0-9a-fA-F_]+ | [-+]? 0[oO][0-7_]+ | [-+]? 0[bB][01_]+
      | [-+]? [0-9][0-9_]* (?::[0-5]?[0-9])+ (?:\.[0-9_]*)?         # sexagesimal 1:20 (1.1)
      | [-+]? \.(?:inf|nan)                                         # .inf, .NaN
      | y|n|yes|no|true|false|on|off                                # bool (1.1 and 1.2)
      | ~|null|<<|=                                                 # null, merge, value
      | [0-9]{4}-[0-9]{1,2}-[0-9]{1,2} (?:[Tt\ \t].*)?              # timestamps
    )""",
    re.VERBOSE | re.IGNORECASE,
)
# A plain scalar cannot start with an indicator or whitespace.
_BAD_START = frozenset("-?:,[]{}#&*!|>'\"%@` \t")
_FLOW_INDICATORS = frozenset(",[]{}")
_DOCUMENT_END = re.compile(r"^\.\.\.(?=[ \t\r\n#]|$).*$", re.MULTILINE)


def needs_quotes(value: str, *, flow: bool = False) -> bool:
    """True when `value` written plain would not load back as the string `value`.

    `flow` is True inside `[...]`/`{...}`, where `,[]{}` end a plain scalar.
    """
    if not value or _NON_STRING.fullmatch(value):
        return True
    if value[0] in _BAD_START or value[-1] in " \t:":
        return True
    if ": " in value or " #" in value or ":\t" in value or "\t#" in value:
        return True
    if any(not ch.isprintable() for ch in value):
        return True
    return flow and any(ch in _FLOW_INDICATORS for ch in value)


def quote(value: str, style: Style) -> str:
    """Write `value` as a quoted YAML scalar; falls back to double when single cannot hold it."""
    if style is Style.SINGLE and value.isprintable():
        return "'" + value.replace("'", "''") + "'"
    return '"' + _escape_double(value) + '"'


def render(value: str, style: Style) -> str:
    """The characters between the quotes of a `style` scalar that holds `value`."""
    if style is Style.SINGLE:
        return value.replace("'", "''")
    if style is Style.DOUBLE:
        return _escape_double(value)
    return value


def _escape_double(value: str) -> str:
    out = []
    for ch in value:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif not ch.isprintable():
            out.append(f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}")
        else:
            out.append(ch)
    return "".join(out)


# --- where scalars are ------------------------------------------------------------------------


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


def compose(text: str) -> list[Node | None]:
    """The documents of `text` as ruamel nodes (raises ruamel's YAMLError).

    ruamel's C parser (libyaml) is used when installed: it is an order of magnitude faster and
    gives the same scalar offsets. Where it refuses (YAML 1.2-only syntax such as `:` in flow
    plain scalars) or offsets would differ (a BOM), the pure-Python parser decides. Both put an
    empty value at a different place (after the `:` or at the next token); callers allow both.
    ruamel warns about anchors defined twice (valid YAML 1.2); that is not our concern here.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if not text.startswith("\ufeff"):
            try:
                return _compose_with(_yaml(pure=False), text)
            except YAMLError:
                pass
        return _compose_with(_yaml(pure=True), text)


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


def _same_tag(a: Node, b: Node) -> bool:
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
                if earlier is not key and key.tag == earlier.tag and key.tag != _MERGE_TAG:
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


# --- what a re-parse moved ---------------------------------------------------------------------


def difference(
    old: Node, new: Node, expected: Mapping[int, object], seen: set[int] | None = None
) -> str:
    """The first way `new` differs from `old` beyond the `expected` scalar values, or "".

    `expected` maps `id(old scalar node)` to its intended new value: a string, None (any string)
    or EMBEDDED (a block scalar holding YAML, which must still parse the same bar edited scalars).
    """
    seen = set() if seen is None else seen
    if id(old) in seen:
        return ""
    seen.add(id(old))
    line = old.start_mark.line + 1
    if type(old) is not type(new):
        return f"line {line}: the structure changed"
    if isinstance(old, ScalarNode):
        if id(old) not in expected:
            same = old.value == new.value and _same_tag(old, new)
            return "" if same else f"line {line}: {old.value!r} became {new.value!r}"
        want = expected[id(old)]
        if new.tag != STR_TAG and (new.tag != old.tag or str(new.tag).startswith(_CORE)):
            return f"line {line}: {new.value!r} does not load as a string"
        if want is EMBEDDED:
            return _embedded_difference(old.value, new.value, line)
        if want is not None and new.value != want:
            return f"line {line}: {new.value!r} instead of {want!r}"
        return ""
    if len(old.value) != len(new.value) or not _same_tag(old, new):
        return f"line {line}: the structure changed"
    pairs: list[tuple[Node, Node]] = []
    if isinstance(old, MappingNode):
        for (old_key, old_value), (new_key, new_value) in zip(old.value, new.value, strict=True):
            pairs += [(old_key, new_key), (old_value, new_value)]
    elif isinstance(old, SequenceNode):
        pairs = list(zip(old.value, new.value, strict=True))
    for old_item, new_item in pairs:
        problem = difference(old_item, new_item, expected, seen)
        if problem:
            return problem
    return ""


def _embedded_difference(old: str, new: str, line: int) -> str:
    """YAML held in a block scalar must still parse the same, bar scalars that became strings."""
    try:
        old_documents = compose(old)
    except YAMLError:
        return ""  # it was never YAML to a parser; the outer document is what counts
    try:
        new_documents = compose(new)
    except YAMLError:
        return f"line {line}: the YAML inside the block scalar no longer parses"
    if len(old_documents) != len(new_documents):
        return f"line {line}: the block scalar's documents changed"
    for old_root, new_root in zip(old_documents, new_documents, strict=True):
        if old_root is None or new_root is None:
            continue
        changed = _changed_scalars(old_root, new_root)
        if changed is None:
            return f"line {line}: the structure inside the block scalar changed"
        if any(new_node.tag != STR_TAG for _, new_node in changed):
            return f"line {line}: an edited value inside the block scalar is not a string"
    return ""


def _changed_scalars(old: Node, new: Node) -> list[tuple[Node, Node]] | None:
    """(old, new) scalar pairs whose values differ (None when the shapes differ)."""
    if type(old) is not type(new):
        return None
    if isinstance(old, ScalarNode):
        return [] if (old.tag, old.value) == (new.tag, new.value) else [(old, new)]
    if old.tag != new.tag or len(old.value) != len(new.value):
        return None
    changed: list[tuple[Node, Node]] = []
    for old_item, new_item in zip(old.value, new.value, strict=True):
        olds = old_item if isinstance(old_item, tuple) else (old_item,)
        news = new_item if isinstance(new_item, tuple) else (new_item,)
        for a, b in zip(olds, news, strict=True):
            found = _changed_scalars(a, b)
            if found is None:
                return None
            changed += found
    return changed
