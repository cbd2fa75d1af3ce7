"""YAML paths: parsed from the dotted syntax config targets are written in
(`spec.containers[*].image`), and formatted for messages (`spec.containers[0].image`)."""

from __future__ import annotations

import json
import re

__all__ = ["YamlPath", "format_yaml_path", "parse_yaml_path"]

YamlPath = tuple[str | int, ...]
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")

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


def format_yaml_path(path: YamlPath) -> str:
    """`('spec', 'containers', 0, 'image')` -> `spec.containers[0].image`; odd keys `["a.b"]`."""
    out = ""
    for part in path:
        if part == "|":  # into the YAML held by a block scalar: `spec.values|image.tag`
            out += "|"
        elif isinstance(part, int):
            out += f"[{part}]"
        elif _IDENTIFIER.fullmatch(part):
            out += f".{part}" if out and not out.endswith("|") else part
        else:
            out += f"[{json.dumps(part)}]"
    return out
