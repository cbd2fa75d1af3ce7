"""Bounds on the work one YAML parse may ask for: nodes with aliases expanded, depth, time.

Every parse of file content (`edit.spans.compose`, the config reader too) measures what it
parsed with `check_limits`, each distinct node once, so a ten-line alias bomb or a
10,000-level nesting costs time linear in the text, and is refused with a reason.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import MappingNode, Node, SequenceNode

__all__ = ["MANIFEST_LIMITS", "YamlLimits", "YamlTooComplex", "check_limits"]


@dataclass(frozen=True, slots=True)
class YamlLimits:
    """The most work one parse may ask for: a file over any bound is not read at all.

    `nodes` counts every node with each alias expanded where it is used (a ten-line "billion
    laughs" file expands to billions), `depth` the nesting with aliases expanded too, and
    `seconds` the time to parse and measure (parsing itself is bounded by the file size).
    """

    nodes: int = 1_000_000
    depth: int = 200
    seconds: float = 20.0


MANIFEST_LIMITS = YamlLimits()


class YamlTooComplex(YAMLError):
    """A document over its `YamlLimits`: the file is skipped with this reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    def __str__(self) -> str:
        return self.reason


def check_limits(roots: list[Node | None], limits: YamlLimits, started: float) -> None:
    """Raise YamlTooComplex when `roots` go past `limits`.

    A tree (no alias) is walked once, a level at a time. At the first node met twice (an
    alias) the walk starts over counting each distinct node once with its expanded size and
    depth.
    """
    seen: set[int] = set()
    level: list[Node] = [root for root in roots if root is not None]
    depth = 0
    while level:
        depth += 1
        if depth > limits.depth:
            raise YamlTooComplex(f"nested deeper than {limits.depth} levels")
        below: list[Node] = []
        for node in level:
            if id(node) in seen:
                _check_expanded(roots, limits, started)
                return
            seen.add(id(node))
            if isinstance(node, MappingNode):
                for pair in node.value:
                    below.extend(pair)
            elif isinstance(node, SequenceNode):
                below.extend(node.value)
        level = below
    _check_size(len(seen), limits, started)


def _check_expanded(roots: list[Node | None], limits: YamlLimits, started: float) -> None:
    """`_check_limits` for a graph: each node's expanded size and depth from its children's."""
    sizes: dict[int, tuple[int, int]] = {}  # id -> (nodes expanded, depth expanded)
    open_: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False) for root in roots if root is not None]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            open_.discard(key)
            inner = [sizes[id(child)] for child in _children(node)]
            size = 1 + sum(n for n, _ in inner)
            depth = 1 + max((d for _, d in inner), default=0)
            sizes[key] = (size, depth)
            if depth > limits.depth:
                raise YamlTooComplex(f"nested deeper than {limits.depth} levels")
            _check_size(size, limits, started if len(sizes) % 4096 == 0 else None)
            continue
        if key in sizes:
            continue
        if key in open_:
            raise YamlTooComplex("an alias that contains itself")
        open_.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in sizes)
    _check_size(0, limits, started)


def _check_size(nodes: int, limits: YamlLimits, started: float | None) -> None:
    if nodes > limits.nodes:
        raise YamlTooComplex(
            f"more than {limits.nodes} YAML nodes with aliases expanded (an alias bomb?)"
        )
    if started is not None and time.monotonic() > started + limits.seconds:
        raise YamlTooComplex(f"took more than {limits.seconds:g} s to read")


def _children(node: Node) -> list[Node]:
    if isinstance(node, MappingNode):
        return [item for pair in node.value for item in pair]
    if isinstance(node, SequenceNode):
        return list(node.value)
    return []
