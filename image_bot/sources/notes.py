"""Release notes as hostile markdown made safe to embed, and trimmed to a size (pure).

Anyone who can publish a release writes this text, and it lands in a pull request the bot
opens under its own name. So, before it is embedded:

- `<` becomes `&lt;`: no HTML, no comments, so no fake hidden marker (`<!-- image-bot: -->`)
  and no `</details>` that closes our section early;
- `@name` and `#123` get a zero-width space after `@`/`#`: nobody is pinged and no issue of
  the manifests repository (or the source's) is cross-referenced;
- control characters are dropped, line ends normalised, and an unclosed code fence is closed;
- each body, and all of them together, are cut at a line boundary to a size limit.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from image_bot.model import ReleaseNote, ReleaseNotes

__all__ = ["RawRelease", "neutralise", "trim_notes"]

_ZWSP = "&#8203;"
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
_MENTION = re.compile(r"(^|[^A-Za-z0-9_`&/])@(?=[A-Za-z0-9])")
_REFERENCE = re.compile(r"(^|[^A-Za-z0-9_&`])#(?=[0-9])|(?<=[A-Za-z0-9_.-])#(?=[0-9])")
_FENCE = re.compile(r"^ {0,3}(```|~~~)", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class RawRelease:
    """A release as the source's forge lists it (text still hostile)."""

    tag: str
    name: str
    url: str
    body: str
    published: datetime | None = None


def neutralise(text: str, limit: int) -> str:
    """`text` safe to embed in a pull request body (see the module docstring), at most
    about `limit` characters (cut at a line boundary, with a note that it was cut)."""
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    cut = len(text) > limit
    if cut:
        text = text[:limit].rsplit("\n", 1)[0] if "\n" in text[:limit] else text[:limit]
    text = text.replace("<", "&lt;")
    text = _MENTION.sub(lambda m: f"{m[1]}@{_ZWSP}", text)
    text = _REFERENCE.sub(lambda m: f"{m[1] or ''}#{_ZWSP}", text)
    if len(_FENCE.findall(text)) % 2:
        text += "\n```"
    return text.strip() + ("\n\n*(cut)*" if cut else "")


def _line(text: str, limit: int = 200) -> str:
    """A one-line field (tag, name): no line breaks, neutralised, bounded."""
    return neutralise(" ".join(text.split())[:limit], limit).replace("\n", " ")


def trim_notes(
    releases: Sequence[RawRelease], *, max_chars: int, max_releases: int, more: str
) -> ReleaseNotes:
    """Neutralised notes of `releases` (newest first), as many as fit in `max_chars` and
    `max_releases`; `more` (the source's releases page) is kept when some were left out."""
    notes: list[ReleaseNote] = []
    budget = max_chars
    for release in releases[:max_releases]:
        if budget <= 0:
            break
        body = neutralise(release.body, budget) if release.body.strip() else ""
        budget -= len(body) + len(release.tag) + 16
        notes.append(
            ReleaseNote(
                tag=_line(release.tag),
                name=_line(release.name or release.tag),
                url=release.url,
                body=body,
                published=release.published,
            )
        )
    trimmed = len(notes) < len(releases) or any(n.body.endswith("*(cut)*") for n in notes)
    return ReleaseNotes(tuple(notes), more=more if trimmed else None)
