"""What image-bot remembers per repository, kept in the dashboard issue's hidden marker (pure).

`<!-- image-bot-dashboard: {"v":1,"ignores":{...},"holds":[...],"pins":{...},...} -->`:
ignored tag globs per image, held images, pinned versions, and how far the dashboard's own
comments were read (`seen`, `cursor`). Living in the forge, it is shared by a one-shot job,
the service and the App, survives restarts, and the issue's edit history is its audit log.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

from image_bot.publish.listing import json_count

__all__ = ["Memory", "decode_memory", "encode_memory", "ignore_globs", "with_memory"]

_FOUND = re.compile(r"<!-- image-bot-dashboard: (\{.*?\}) -->")
_VERSION = re.compile(r"^(?P<prefix>[^0-9]*)(?P<major>\d+)(?:\.(?P<minor>\d+))?")
_MAX_ITEMS = 500


def ignore_globs(tag: str, scope: str | None) -> tuple[str, ...]:
    """The tag globs `ignore [scope]` means for a proposal of `tag`: the version itself, or
    its `major` / `minor` series (`v1.27.1`, minor: `v1.27`, `v1.27.*`, `v1.27-*`)."""
    match = _VERSION.match(tag)
    if scope not in ("major", "minor") or match is None:
        return (tag,)
    prefix, major, minor = match.group("prefix", "major", "minor")
    if scope == "minor" and minor is None:
        return (tag,)
    series = f"{prefix}{major}.{minor}" if scope == "minor" else f"{prefix}{major}"
    return (series, f"{series}.*", f"{series}-*")


@dataclass(frozen=True, slots=True)
class Memory:
    """Ignores (image -> globs), holds (images), pins (image -> tag); image names canonical."""

    ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    holds: tuple[str, ...] = ()
    pins: tuple[tuple[str, str], ...] = ()
    seen: int = 0
    cursor: int = 0

    def ignored(self, image: str) -> tuple[str, ...]:
        """The globs ignored for `image`."""
        return dict(self.ignores).get(image, ())

    def pinned(self, image: str) -> str | None:
        """The version `image` is pinned to."""
        return dict(self.pins).get(image)

    def ignore(self, image: str, globs: tuple[str, ...]) -> Memory:
        """With `globs` ignored for `image` too."""
        known = dict(self.ignores)
        known[image] = tuple(dict.fromkeys((*known.get(image, ()), *globs)))
        return replace(self, ignores=tuple(sorted(known.items())))

    def unignore(self, image: str | None) -> Memory:
        """Without the ignores of `image` (None: of every image)."""
        kept = () if image is None else tuple(i for i in self.ignores if i[0] != image)
        return replace(self, ignores=kept)

    def hold(self, image: str, held: bool) -> Memory:
        """With `image` held (or not)."""
        holds = {*self.holds, image} if held else set(self.holds) - {image}
        return replace(self, holds=tuple(sorted(holds)))

    def pin(self, image: str, tag: str | None) -> Memory:
        """With `image` pinned to `tag` (None: unpinned)."""
        pins = {k: v for k, v in self.pins if k != image}
        if tag is not None:
            pins[image] = tag
        return replace(self, pins=tuple(sorted(pins.items())))


def encode_memory(memory: Memory) -> str:
    """The hidden marker line (keys sorted: the same memory is always the same text)."""
    payload: dict[str, object] = {
        "v": 1,
        "ignores": {image: list(globs) for image, globs in memory.ignores},
        "holds": list(memory.holds),
        "pins": dict(memory.pins),
        "seen": memory.seen,
        "cursor": memory.cursor,
    }
    text = json.dumps(payload, separators=(",", ":"), sort_keys=True).replace("--", "-\\u002d")
    return f"<!-- image-bot-dashboard: {text} -->"


def _strings(value: object) -> list[str]:
    if not isinstance(value, list):
        return []
    return [item for item in value[:_MAX_ITEMS] if isinstance(item, str)]


def _mapping(value: object) -> Mapping[str, object]:
    return value if isinstance(value, dict) else {}


def decode_memory(body: str | None) -> Memory | None:
    """The memory in a dashboard body (None: not a dashboard of ours). Anyone who can edit
    the issue can edit this: what does not parse is dropped, never trusted."""
    match = _FOUND.search(body or "")
    if match is None:
        return None
    try:
        payload = json.loads(match.group(1))
    except (ValueError, RecursionError):
        return Memory()
    if not isinstance(payload, dict) or payload.get("v") != 1:
        return Memory()
    ignores = {
        str(image): tuple(_strings(globs))
        for image, globs in list(_mapping(payload.get("ignores")).items())[:_MAX_ITEMS]
    }
    pins = {
        str(k): v for k, v in list(_mapping(payload.get("pins")).items())[:_MAX_ITEMS]
        if isinstance(v, str)
    }  # fmt: skip
    return Memory(
        ignores=tuple(sorted((k, v) for k, v in ignores.items() if v)),
        holds=tuple(sorted(set(_strings(payload.get("holds"))))),
        pins=tuple(sorted(pins.items())),
        seen=json_count(payload.get("seen")),
        cursor=json_count(payload.get("cursor")),
    )


def with_memory(body: str, memory: Memory) -> str:
    """`body` with its memory marker replaced by `memory`'s (appended when it has none)."""
    encoded = encode_memory(memory)
    if _FOUND.search(body) is None:
        return f"{body.rstrip()}\n\n{encoded}\n"
    return _FOUND.sub(lambda _: encoded, body, count=1)
