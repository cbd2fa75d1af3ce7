"""YAML scalars: when a new value needs quotes, how to write it, what else a re-parse moved."""

from __future__ import annotations

import re
from collections.abc import Mapping

from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from image_bot.edit.yaml.limits import YamlTooComplex
from image_bot.edit.yaml.spans import STR_TAG, Style, compose, same_tag

__all__ = ["EMBEDDED", "difference", "needs_quotes", "quote", "render"]

EMBEDDED = object()  # the expected value of an edited block scalar that holds YAML
_CORE = "tag:yaml.org,2002:"

# Values that YAML 1.1 or 1.2 resolves to something other than a string when plain. The
# rules are a little wider than either spec (case-insensitive words, `_` anywhere in
# numbers): quoting a string that did not need it is harmless, the reverse changes its type.
_NON_STRING = re.compile(
    r"""
    (?: [-+]? [0-9][0-9_]* (?:\.[0-9_]*)? (?:[eE][-+]?[0-9]+)?     # 10, 1.10, 1_000, 2e5, 1.
      | [-+]? \.[0-9_]+ (?:[eE][-+]?[0-9]+)?                        # .5, ._ (1.1)
      | [-+] _ [0-9_]*                                              # +_ (ruamel's 1.2 int)
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
            same = old.value == new.value and same_tag(old, new)
            return "" if same else f"line {line}: {old.value!r} became {new.value!r}"
        want = expected[id(old)]
        if new.tag != STR_TAG and (new.tag != old.tag or str(new.tag).startswith(_CORE)):
            return f"line {line}: {new.value!r} does not load as a string"
        if want is EMBEDDED:
            return _embedded_difference(old.value, new.value, line)
        if want is not None and new.value != want:
            return f"line {line}: {new.value!r} instead of {want!r}"
        return ""
    if len(old.value) != len(new.value) or not same_tag(old, new):
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
    except YamlTooComplex as exc:
        return f"line {line}: the block scalar is {exc.reason}"
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
