"""A tolerant line-level reader of Helm chart templates: literal `image:` values, no rendering.

A chart's `templates/*.yaml` are Go templates, not YAML, until Helm renders them. Yet they
often hold literal references (test pods, init containers, jobs): `image: busybox:1.37.0`.
This reader walks the lines once, skipping template actions (`{{ ... }}`, also over several
lines, and `{{/* comments */}}`) and the bodies of block scalars (`script: |`), and reports
every `image:` key with its value's exact characters. A value with `{{` in it is templated.
Work is linear in the text; a line over `MAX_LINE` characters is not read (and reported when
it mentions an image).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from image_bot.yaml_path import YamlPath

__all__ = ["MAX_LINE", "ImageLine", "TemplateRead", "is_chart_template", "read_template"]

MAX_LINE = 8_192
_KEY = re.compile(r"(?P<indent> *)(?P<dash>(?:- +)*)(?P<key>[A-Za-z_][\w.-]*) *:(?=[ \t]|$)")
_BLOCK_HEADER = re.compile(r"[|>][-+0-9]*[ \t]*(?:#.*)?")
_TEMPLATE_DIR = re.compile(r"(?:^|/)templates/")


def is_chart_template(path: str, text: str) -> bool:
    """A Helm template: a file under a `templates/` folder (not a values file) with `{{`."""
    if "templates/" not in path or path.rsplit("/", 1)[-1].startswith("values"):
        return False  # (the path first: it is short, the text may be long)
    return bool(_TEMPLATE_DIR.search(path)) and "{{" in text


@dataclass(frozen=True, slots=True)
class ImageLine:
    """One `image:` key with a value on its line: where the value's characters are."""

    line: int  # 1-based
    column: int  # 1-based, of the value's first character (inside quotes)
    start: int  # offsets into the text, quotes excluded
    end: int
    value: str
    quote: str  # "", "'" or '"'
    path: YamlPath  # keys (and list positions) from the indentation, as written


@dataclass(frozen=True, slots=True)
class TemplateRead:
    """What the reader saw: literal values, and (line, reason) for values it cannot use."""

    images: tuple[ImageLine, ...]
    skipped: tuple[tuple[int, str], ...]


class _Path:
    """The keys above the current line, from indentation (a template is YAML-shaped)."""

    def __init__(self) -> None:
        self.frames: list[tuple[int, str | int]] = []  # (column, key or list position)
        self.items: dict[tuple[int, YamlPath], int] = {}

    def enter(self, dashes: list[int], column: int, key: str) -> None:
        """Step to `key` at `column`, after list dashes at `dashes` (columns)."""
        for dash in dashes:
            while self.frames and (
                self.frames[-1][0] > dash
                or (self.frames[-1][0] == dash and isinstance(self.frames[-1][1], int))
            ):
                self.frames.pop()
            parent = tuple(step for _, step in self.frames)
            position = self.items.get((dash, parent), -1) + 1
            self.items[(dash, parent)] = position
            self.frames.append((dash, position))
        while (
            self.frames
            and self.frames[-1][0] >= column
            and not (dashes and self.frames[-1][0] == dashes[-1])
        ):
            self.frames.pop()
        self.frames.append((column, key))

    def here(self) -> YamlPath:
        """The path of the key entered last."""
        return tuple(step for _, step in self.frames)


def read_template(text: str) -> TemplateRead:
    """Every `image:` line of a chart template (see the module docstring)."""
    reader = _Reader()
    offset, number = 0, 0
    while offset <= len(text):  # line by line, without a list of all lines
        end = text.find("\n", offset)
        end = len(text) if end < 0 else end
        number += 1
        raw = text[offset:end]
        reader.read(raw[:-1] if raw.endswith("\r") else raw, number, offset)
        offset = end + 1
    if reader.action_from:
        reason = "a `{{` that never closes: the lines after it are not read"
        reader.skipped.append((reader.action_from, reason))
    return TemplateRead(tuple(reader.images), tuple(reader.skipped))


class _Reader:
    """The reader's state between lines: open action, block scalar, the keys above."""

    def __init__(self) -> None:
        self.images: list[ImageLine] = []
        self.skipped: list[tuple[int, str]] = []
        self.path = _Path()
        self.action_from = 0  # line where an unclosed `{{` opened (0: none open)
        self.block_column = -1  # inside a block scalar whose key sits at this column

    def read(self, line: str, number: int, start: int) -> None:
        if len(line) > MAX_LINE:
            if "image" in line:
                self.skipped.append((number, f"a line of {len(line)} characters is not read"))
            self.actions(line, number)
            return
        if self.action_from:
            close = line.find("}}")
            if close >= 0:
                self.action_from = 0
                self.actions(line[close + 2 :], number)
            return
        if self.block_column >= 0:
            stripped = line.lstrip(" ")
            indent = len(line) - len(stripped)
            if not stripped or indent > self.block_column or stripped.startswith("{{"):
                self.actions(line, number)
                return
            self.block_column = -1
        match = _KEY.match(line)  # no match for `{{ ... }}` or `# comment` lines
        if match is None:
            self.actions(line, number)
            return
        column = match.start("key")
        dash = match["dash"]
        dashes = [match.start("dash") + m.start() for m in re.finditer("-", dash)] if dash else []
        self.path.enter(dashes, column, match["key"])
        rest = line[match.end() :]
        if ("|" in rest or ">" in rest) and _BLOCK_HEADER.fullmatch(rest.strip()):
            self.block_column = column
            return
        if match["key"] == "image":
            found = _image(line, match.end())
            if isinstance(found, tuple):
                begin, value, quote = found
                end = start + begin + len(value)
                here = self.path.here()
                image = ImageLine(number, begin + 1, start + begin, end, value, quote, here)
                self.images.append(image)
            elif found:
                self.skipped.append((number, found))
        self.actions(rest, number)

    def actions(self, text: str, number: int) -> None:
        """Note an action (`{{`) that `text` opens and does not close."""
        if "{{" in text:
            opened = text.rfind("{{")
            self.action_from = number if text.find("}}", opened) < 0 else 0


def _image(line: str, value_at: int) -> tuple[int, str, str] | str:
    """(column offset, value, quote) of the `image:` value on `line`, or why it is not a
    literal reference ("" when there is no value on the line).
    """
    rest = line[value_at:]
    lead = len(rest) - len(rest.lstrip(" \t"))
    value = rest[lead:]
    first = value_at + lead
    if "{{" in value:
        return f"templated value {value.strip()[:80]!r}"
    if not value or value.startswith("#"):
        return ""  # a mapping follows, or nothing: not a literal
    quote = value[0] if value[0] in "'\"" else ""
    if quote:
        close = value.find(quote, 1)
        if close < 0:
            return "a quoted value that does not close on its line"
        content = value[1:close]
        if ("\\" in content and quote == '"') or value[close + 1 : close + 2] == quote:
            return f"written with escapes: {content[:80]!r}"
        return first + 1, content, quote
    comment = value.find(" #")
    content = (value if comment < 0 else value[:comment]).rstrip(" \t")
    if content[0] in "[{&*!|>%@`":
        return f"not a plain value: {content[:80]!r}"
    return first, content, ""
