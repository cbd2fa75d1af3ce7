"""Dotted YAML paths (`spec.containers[*].image`): the syntax config targets are written in."""

from __future__ import annotations

import re

__all__ = ["parse_yaml_path"]

_STEP = re.compile(r"""\.?(?:\[(?P<index>\d+|\*)\]|\["(?P<quoted>[^"]+)"\]|(?P<key>[^.\[\]]+))""")


def parse_yaml_path(text: str) -> tuple[str | int | None, ...]:
    """`spec.containers[*].image` -> ('spec', 'containers', None, 'image'); None is `[*]`.

    Keys are dotted, list items `[0]` (or `[*]` for every item), odd keys `["x.y/z"]`.
    Raises ValueError for text that is not such a path.
    """
    parts: list[str | int | None] = []
    position = 0
    while position < len(text):
        match = _STEP.match(text, position)
        if match is None or match.end() == position:
            msg = f'cannot read a YAML path at {text[position:]!r} (write a.b[0]["c.d"])'
            raise ValueError(msg)
        index = match.group("index")
        if index is not None:
            parts.append(None if index == "*" else int(index))
        else:
            parts.append(match.group("quoted") or match.group("key"))
        position = match.end()
    if not parts:
        msg = "a YAML path is not empty"
        raise ValueError(msg)
    return tuple(parts)
