"""`/image-bot ...` commands in comments: parsing, and the replies' wording (pure).

```
/image-bot rebase                      rebuild this pull request (on the dashboard: all of them)
/image-bot ignore [VERSION|major|minor] stop proposing what this pull request proposes
/image-bot unignore [IMAGE]            forget ignores of this PR's images (dashboard: IMAGE or all)
/image-bot hold IMAGE | unhold IMAGE   no pull requests for IMAGE / again
/image-bot pin IMAGE VERSION | unpin IMAGE   keep IMAGE at VERSION (proposed if it is not) / stop
/image-bot explain IMAGE               reply with the candidate tags and each one's verdict
```

The first line of a comment that starts with `/image-bot` is the command; words are split on
white space, the verb is case-free. A reply never starts a line with `/image-bot`, so the
bot never reads its own replies as commands.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "REPLY_MARK",
    "CommandError",
    "Request",
    "Verb",
    "parse_request",
    "reply_text",
]

REPLY_MARK = "<!-- image-bot reply -->"  # hidden in every reply: never a command
_LINE = re.compile(r"^[ \t]*/image-bot[ \t]+(?P<words>[^\r\n]*)$", re.MULTILINE | re.IGNORECASE)
_MAX_WORD = 200


class Verb(StrEnum):
    """What a command asks for."""

    REBASE = "rebase"
    IGNORE = "ignore"
    UNIGNORE = "unignore"
    HOLD = "hold"
    UNHOLD = "unhold"
    PIN = "pin"
    UNPIN = "unpin"
    EXPLAIN = "explain"


_ARITY = {  # (least, most) arguments
    Verb.REBASE: (0, 0),
    Verb.IGNORE: (0, 1),
    Verb.UNIGNORE: (0, 1),
    Verb.HOLD: (1, 1),
    Verb.UNHOLD: (1, 1),
    Verb.PIN: (2, 2),
    Verb.UNPIN: (1, 1),
    Verb.EXPLAIN: (1, 1),
}
USAGE = {
    Verb.REBASE: "rebase",
    Verb.IGNORE: "ignore [VERSION|major|minor]",
    Verb.UNIGNORE: "unignore [IMAGE]",
    Verb.HOLD: "hold IMAGE",
    Verb.UNHOLD: "unhold IMAGE",
    Verb.PIN: "pin IMAGE VERSION",
    Verb.UNPIN: "unpin IMAGE",
    Verb.EXPLAIN: "explain IMAGE",
}


class CommandError(ValueError):
    """A `/image-bot` line that is not a command we know (the reply says why)."""


@dataclass(frozen=True, slots=True)
class Request:
    """One parsed command: its verb and arguments, and the line as written."""

    verb: Verb
    args: tuple[str, ...]
    text: str


def parse_request(comment: str) -> Request | None:
    """The command of `comment` (None: no `/image-bot` line); CommandError when malformed."""
    if "/image-bot" not in comment.lower() or REPLY_MARK in comment:
        return None
    match = _LINE.search(comment)
    if match is None:
        return None
    words = match["words"].split()
    text = " ".join(["/image-bot", *words])[:300]
    if not words:
        raise CommandError("no command after `/image-bot`")
    try:
        verb = Verb(words[0].lower())
    except ValueError:
        known = ", ".join(verb.value for verb in Verb)
        raise CommandError(f"unknown command `{words[0][:40]}`; use one of {known}") from None
    args = tuple(words[1:])
    if verb is Verb.IGNORE and tuple(a.lower() for a in args) == ("this", "version"):
        args = ()  # the spelling of earlier versions
    least, most = _ARITY[verb]
    if not least <= len(args) <= most or any(len(arg) > _MAX_WORD for arg in args):
        raise CommandError(f"usage: `/image-bot {USAGE[verb]}`")
    return Request(verb, args, text)


def reply_text(request_text: str, who: str, done: bool, message: str) -> str:
    """The one reply to a command: done or refused, and why."""
    quoted = request_text.replace("`", "'")
    outcome = "done" if done else "refused"
    return f"{REPLY_MARK}\n@{who} `{quoted}`: {outcome}. {message}"
