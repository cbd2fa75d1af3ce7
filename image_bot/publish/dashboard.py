"""The dashboard issue's text, and the boxes people tick in it (pure).

One issue per repository lists the bot's open pull requests (tick to rebase), what waits
and until when (limits: tick to open now; `min_age`: the time it passes), ignored
versions (tick to unignore), held and pinned images, and what failed. Each box carries a
hidden `<!-- image-bot-box: VERB ARG -->`; a ticked one is acted on once by the next pass
(or at once, from the `issues` webhook) and written back unticked.

The text depends only on the state it shows (dates, never "3 hours ago"), so a pass that
changes nothing renders the same text and writes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from image_bot.publish.memory import Memory, encode_memory

__all__ = [
    "Box",
    "BoxVerb",
    "DashboardView",
    "Deferred",
    "OpenPull",
    "Waiting",
    "render_dashboard",
    "ticked",
    "untick",
]

_BOX = re.compile(
    r"^(?P<lead>[ \t]*[-*][ \t]+\[)(?P<mark>[ xX])(?P<rest>\][ \t]*<!-- image-bot-box: "
    r"(?P<verb>[a-z]+) (?P<arg>[A-Za-z0-9._/:@+-]{1,300}) -->)",
    re.MULTILINE,
)


class BoxVerb(StrEnum):
    """What a ticked box asks for."""

    REBASE = "rebase"  # arg: the bot branch
    OPEN = "open"  # arg: the bot branch of a deferred plan
    UNIGNORE = "unignore"  # arg: the image


@dataclass(frozen=True, slots=True)
class Box:
    """A ticked box: its verb and argument."""

    verb: BoxVerb
    arg: str


@dataclass(frozen=True, slots=True)
class OpenPull:
    """An open bot pull request."""

    branch: str
    title: str
    url: str


@dataclass(frozen=True, slots=True)
class Deferred:
    """A pull request a limit keeps from opening."""

    branch: str
    what: str
    reason: str


@dataclass(frozen=True, slots=True)
class Waiting:
    """A version a policy gate holds back, and when it will pass (None: unknown)."""

    image: str
    tag: str
    reason: str
    opens_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class DashboardView:
    """Everything the dashboard shows."""

    repository: str
    open: tuple[OpenPull, ...] = ()
    deferred: tuple[Deferred, ...] = ()
    waiting: tuple[Waiting, ...] = ()
    problems: tuple[str, ...] = ()


def ticked(body: str) -> list[Box]:
    """The boxes ticked in `body` (unknown verbs are skipped)."""
    boxes = []
    for match in _BOX.finditer(body.replace("\r\n", "\n")):
        if match["mark"] in "xX":
            try:
                boxes.append(Box(BoxVerb(match["verb"]), match["arg"]))
            except ValueError:
                continue
    return boxes


def untick(body: str) -> str:
    """`body` with every image-bot box unticked."""
    return _BOX.sub(lambda m: f"{m['lead']} {m['rest']}", body.replace("\r\n", "\n"))


def _box(verb: BoxVerb, arg: str, text: str) -> str:
    return f"- [ ] <!-- image-bot-box: {verb.value} {arg} --> {text}"


def _code(text: str) -> str:
    return "`" + text.replace("`", "'")[:200] + "`"


def _date(when: datetime) -> str:
    return when.strftime("%Y-%m-%d %H:%M UTC")


def _section(title: str, lines: Sequence[str]) -> list[str]:
    return [f"## {title}", "", *(lines or ["None."]), ""]


def render_dashboard(view: DashboardView, memory: Memory) -> str:
    """The dashboard body for `view`, the memory marker last."""
    pulls = [
        _box(BoxVerb.REBASE, p.branch, f"Rebase [{p.title.replace(']', ')')}]({p.url})")
        for p in sorted(view.open, key=lambda p: p.branch)
    ]
    waiting = [
        _box(BoxVerb.OPEN, d.branch, f"Open now: {_code(d.branch)} {d.what} ({d.reason})")
        for d in sorted(view.deferred, key=lambda d: d.branch)
    ]
    waiting += [
        f"- {_code(w.image)} {_code(w.tag)}: {w.reason}"
        + (f", opens after {_date(w.opens_at)}" if w.opens_at else "")
        for w in sorted(view.waiting, key=lambda w: (w.image, w.tag))
    ]
    ignored = [
        _box(BoxVerb.UNIGNORE, image, f"Unignore {_code(image)}: {', '.join(map(_code, globs))}")
        for image, globs in memory.ignores
    ]
    held = [f"- {_code(image)} (`/image-bot unhold {image}`)" for image in memory.holds]
    pinned = [
        f"- {_code(image)} at {_code(tag)} (`/image-bot unpin {image}`)"
        for image, tag in memory.pins
    ]
    problems = [f"- {problem}" for problem in sorted(set(view.problems))]
    lines = [
        f"image-bot keeps this issue current for {_code(view.repository)}. Tick a box to act"
        " on the next pass; comment `/image-bot <command>` here or on a pull request"
        " (rebase, ignore, unignore, hold, unhold, pin, unpin, explain).",
        "",
        *_section("Open pull requests", pulls),
        *_section("Waiting", waiting),
        *_section("Ignored versions", ignored),
        *_section("Held images", held),
        *_section("Pinned images", pinned),
        *_section("Problems", problems),
        encode_memory(memory),
        "",
    ]
    return "\n".join(lines)
