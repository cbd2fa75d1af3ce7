"""JSON from outside (registry answers, webhook deliveries): bounded, with one failure type.

`json.loads` alone raises `RecursionError` on deeply nested input (`[[[[...]]]]`), which
no caller expects, and accepts nesting deep enough to make any later recursion (`repr`,
logging) fail. `load_json` turns every way a body can be unreadable into `ValueError`.
"""

from __future__ import annotations

import json

__all__ = ["MAX_DEPTH", "load_json"]

MAX_DEPTH = 64  # far beyond any manifest, tag list, token or webhook payload we read


def _deeper_than(value: object, limit: int) -> bool:
    """True when containers nest more than `limit` levels (iterative: no recursion)."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: list[object] = list(item.values())
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def load_json(data: bytes | str, *, max_depth: int = MAX_DEPTH) -> object:
    """The parsed value; ValueError when it is not JSON, not UTF-8, or nested too deeply."""
    try:
        value = json.loads(data)
    except RecursionError:
        raise ValueError(f"JSON nested more than {max_depth} levels deep") from None
    # json.JSONDecodeError and UnicodeDecodeError are ValueErrors already
    if _deeper_than(value, max_depth):
        raise ValueError(f"JSON nested more than {max_depth} levels deep")
    return value
