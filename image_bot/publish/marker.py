"""The hidden marker in a bot PR body: how the bot recognises its PRs and what they proposed.

It is an HTML comment (invisible in the rendered body) holding one line of JSON:
`<!-- image-bot: {"v":1,"group":"...","fingerprint":"...","proposals":["..."]} -->`.
Pure code: no I/O.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

__all__ = ["Marker", "decode_marker", "encode_marker"]

_PREFIX = "<!-- image-bot: "
_SUFFIX = " -->"
_FOUND = re.compile(r"<!-- image-bot: (\{.*?\}) -->")
_VERSION = 1


@dataclass(frozen=True, slots=True)
class Marker:
    """What a bot PR carries: its group, the fingerprint of its plan, the refs it proposed."""

    group: str
    fingerprint: str
    proposals: tuple[str, ...] = ()


def encode_marker(marker: Marker) -> str:
    """The marker as an HTML comment line for the end of a PR body."""
    payload = {
        "v": _VERSION,
        "group": marker.group,
        "fingerprint": marker.fingerprint,
        "proposals": list(marker.proposals),
    }
    # `--` cannot appear inside an HTML comment; JSON escapes keep it out of strings.
    text = json.dumps(payload, separators=(",", ":"), sort_keys=True).replace("--", "-\\u002d")
    return f"{_PREFIX}{text}{_SUFFIX}"


def decode_marker(body: str | None) -> Marker | None:
    """The marker in `body`, or None when there is none or it is not one we wrote."""
    if not body:
        return None
    match = _FOUND.search(body)
    if match is None:
        return None
    try:
        payload = json.loads(match.group(1))
    except ValueError:
        return None
    if not isinstance(payload, dict) or payload.get("v") != _VERSION:
        return None
    group, fingerprint = payload.get("group"), payload.get("fingerprint")
    proposals = payload.get("proposals", [])
    if not isinstance(group, str) or not isinstance(fingerprint, str):
        return None
    if not isinstance(proposals, list) or not all(isinstance(p, str) for p in proposals):
        return None
    return Marker(group=group, fingerprint=fingerprint, proposals=tuple(proposals))
