"""The hidden marker in a bot PR body: how the bot recognises its PRs and what they proposed.

It is an HTML comment (invisible in the rendered body) holding one line of JSON:
`<!-- image-bot: {"v":1,"group":"...","fingerprint":"...","proposals":["..."]} -->`.
`notices` (added later, absent when empty, so older markers decode unchanged) names the
one-time comments already acknowledged on the PR (`NOTICE_*`): the bot records a notice in
the marker *before* posting its comment, so a pass never posts the same comment twice.
`seen` (the comment count last read) and `cursor` (the newest comment id handled) say which
comments may hold new `/image-bot` commands; they too are absent while 0. Pure code: no I/O.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace

__all__ = [
    "NOTICE_CLOSED",
    "NOTICE_HELD",
    "NOTICE_OBSOLETE",
    "PrMarker",
    "decode_pr_marker",
    "encode_pr_marker",
    "with_pr_marker",
]

NOTICE_CLOSED = "closed"  # closed without merging: its proposals are not proposed again
NOTICE_HELD = "held"  # someone else pushed to the branch: the bot stopped updating it
NOTICE_OBSOLETE = "obsolete"  # the bot closes it: nothing it proposes is wanted any more

_PREFIX = "<!-- image-bot: "
_SUFFIX = " -->"
_FOUND = re.compile(r"<!-- image-bot: (\{.*?\}) -->")
_VERSION = 1


@dataclass(frozen=True, slots=True)
class PrMarker:
    """What a bot PR carries: its group, the fingerprint of its plan, the refs it proposed."""

    group: str
    fingerprint: str
    proposals: tuple[str, ...] = ()
    notices: tuple[str, ...] = ()
    seen: int = 0  # comments counted when the bot last read them
    cursor: int = 0  # the newest comment id whose command was handled

    def noticed(self, notice: str) -> PrMarker:
        """This marker with `notice` recorded (unchanged when it already is)."""
        if notice in self.notices:
            return self
        return replace(self, notices=(*self.notices, notice))


def encode_pr_marker(marker: PrMarker) -> str:
    """The marker as an HTML comment line for the end of a PR body."""
    payload: dict[str, object] = {
        "v": _VERSION,
        "group": marker.group,
        "fingerprint": marker.fingerprint,
        "proposals": list(marker.proposals),
    }
    if marker.notices:
        payload["notices"] = list(marker.notices)
    if marker.seen:
        payload["seen"] = marker.seen
    if marker.cursor:
        payload["cursor"] = marker.cursor
    # `--` cannot appear inside an HTML comment; JSON escapes keep it out of strings.
    text = json.dumps(payload, separators=(",", ":"), sort_keys=True).replace("--", "-\\u002d")
    return f"{_PREFIX}{text}{_SUFFIX}"


def decode_pr_marker(body: str | None) -> PrMarker | None:
    """The marker in `body`, or None when there is none or it is not one we wrote."""
    if not body:
        return None
    match = _FOUND.search(body)
    if match is None:
        return None
    try:
        payload = json.loads(match.group(1))
    except (ValueError, RecursionError):  # anyone who can edit the body can nest 100,000 `[`
        return None
    if not isinstance(payload, dict) or payload.get("v") != _VERSION:
        return None
    group, fingerprint = payload.get("group"), payload.get("fingerprint")
    proposals, notices = payload.get("proposals", []), payload.get("notices", [])
    if not isinstance(group, str) or not isinstance(fingerprint, str):
        return None
    if not _strings(proposals) or not _strings(notices):
        return None
    seen, cursor = payload.get("seen", 0), payload.get("cursor", 0)
    if not _count(seen) or not _count(cursor):
        return None
    return PrMarker(group, fingerprint, tuple(proposals), tuple(notices), seen, cursor)


def with_pr_marker(body: str, marker: PrMarker) -> str:
    """`body` with its marker replaced by `marker` (appended when it has none)."""
    encoded = encode_pr_marker(marker)
    if _FOUND.search(body) is None:
        return f"{body.rstrip()}\n\n{encoded}\n"
    return _FOUND.sub(lambda _: encoded, body, count=1)


def _count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 1 << 62


def _strings(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)
