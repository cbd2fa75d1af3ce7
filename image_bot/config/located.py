"""Read YAML keeping the line of every key and list item, with ${ENV}/${file:} interpolation.

The result is plain data (dicts, lists, scalars) for pydantic, plus a map from each value's
location (`("repositories", 0, "forge")`) to its line, so every error can name both.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from image_bot.edit.yaml.limits import YamlLimits, YamlTooComplex
from image_bot.edit.yaml.spans import compose
from image_bot.errors import ConfigError
from image_bot.yaml_errors import describe_yaml_error
from image_bot.yaml_path import format_yaml_path

__all__ = ["LocatedYaml", "Location", "Problem", "combined_error", "key_spellings", "read_yaml"]

Location = tuple[str | int, ...]

_INTERPOLATION = re.compile(r"\$\$\{|\$\{(?P<body>[^}]*)(?P<close>\})?")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Aliases can make a small file expand exponentially ("billion laughs"), and the round-trip
# loader recurses per nesting level: the text is measured (edit.spans.compose) before it.
_LIMITS = YamlLimits(nodes=100_000, depth=64, seconds=10.0)


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with the file: the line, the location of the value and why."""

    line: int
    location: Location
    message: str


@dataclass
class LocatedYaml:
    """Plain data (dicts, lists, scalars), the line of every key and list item, and the
    interpolation problems met while reading (`problems`)."""

    source: str
    base_dir: Path
    require_env: bool = True
    interpolate: bool = True
    lines: dict[Location, int] = field(default_factory=lambda: {(): 1})
    data: object = None
    problems: list[Problem] = field(default_factory=list)

    def line_of(self, location: Location) -> int:
        """The line of `location`, or of its nearest parent that has one."""
        for end in range(len(location), -1, -1):
            *parents, last = location[:end] or ("",)
            for spelling in key_spellings(last):
                line = self.lines.get((*parents, spelling) if end else ())
                if line is not None:
                    return line
        return 1

    def problem(self, message: str, location: Location) -> Problem:
        """A Problem about the value at `location`, with its line."""
        return Problem(self.line_of(location), location, message)

    def error(self, message: str, location: Location) -> ConfigError:
        """A ConfigError about the value at `location`: file, line and field filled in."""
        return ConfigError(
            message,
            file=self.source,
            line=self.line_of(location),
            field=format_yaml_path(location) or None,
        )


def key_spellings(part: str | int) -> tuple[str | int, ...]:
    """`min_age` and `min-age`: policy keys accept both."""
    if isinstance(part, int):
        return (part,)
    return (part, part.replace("-", "_"), part.replace("_", "-"))


def read_yaml(
    text: str,
    *,
    source: str,
    base_dir: Path,
    require_env: bool = True,
    interpolate: bool = True,
    collect: bool = False,
) -> LocatedYaml:
    """Parse one YAML document into plain data with lines; errors name `source` and the line.

    `base_dir` anchors relative `${file:...}` paths. With `require_env=False` an unset
    `${VAR}` or unreadable `${file:}` stays as written; with `interpolate=False` every
    string is taken as written (text from elsewhere must not read our environment or files).
    Interpolation problems (all of them) raise one ConfigError, unless `collect` leaves them
    in `problems` (the value stays as written) for the caller to report with its own.
    """
    document = LocatedYaml(
        source=source, base_dir=base_dir, require_env=require_env, interpolate=interpolate
    )
    document.data = _plain(_parse_yaml(text, source), (), document)
    if document.problems and not collect:
        raise combined_error(document.problems, document)
    return document


_MORE_ERRORS = 10


def combined_error(problems: Sequence[Problem], document: LocatedYaml) -> ConfigError:
    """One ConfigError for every problem, in line order: the first as the error's own
    file:line: field, the others (up to ten, then a count) as `file:line: field: why` lines."""
    found = sorted(problems, key=lambda problem: problem.line)
    first = found[0]
    more = [
        f"{document.source}:{p.line}: {format_yaml_path(p.location) or '(top)'}: {p.message}"
        for p in found[1 : 1 + _MORE_ERRORS]
    ]
    if len(found) > 1 + _MORE_ERRORS:
        more.append(f"... and {len(found) - 1 - _MORE_ERRORS} more")
    return ConfigError(
        "\n".join([first.message, *more]),
        file=document.source,
        line=first.line,
        field=format_yaml_path(first.location) or None,
    )


def _parse_yaml(text: str, source: str) -> object:
    try:
        compose(text, _LIMITS)
        return YAML(typ="rt", pure=True).load(text)
    except YamlTooComplex as error:
        raise ConfigError(f"invalid YAML: {error.reason}", file=source) from None
    except YAMLError as error:
        where = describe_yaml_error(error)
        raise ConfigError(f"invalid YAML: {where.reason}", file=source, line=where.line) from None


def _plain(node: object, location: Location, document: LocatedYaml) -> object:
    """Copy the ruamel tree into plain values, noting lines and interpolating strings."""
    if isinstance(node, CommentedMap):
        out: dict[object, object] = {}
        for key, value in node.items():
            plain_key = str(key) if isinstance(key, str) else key
            child = (*location, plain_key) if isinstance(plain_key, str | int) else location
            try:
                document.lines[child] = node.lc.key(key)[0] + 1
            except KeyError:  # a key merged in with `<<: *anchor`
                document.lines[child] = document.line_of(location)
            out[plain_key] = _plain(value, child, document)
        return out
    if isinstance(node, CommentedSeq):
        items = []
        for index, value in enumerate(node):
            document.lines[(*location, index)] = node.lc.item(index)[0] + 1
            items.append(_plain(value, (*location, index), document))
        return items
    if isinstance(node, str):
        return _interpolate(str(node), location, document) if document.interpolate else str(node)
    if isinstance(node, bool):
        return bool(node)
    if isinstance(node, int):  # ruamel's ScalarInt keeps hex/underscore spelling: drop it
        return int(node)
    if isinstance(node, float):
        return float(node)
    return node


def _interpolate(text: str, location: Location, document: LocatedYaml) -> str:
    """Replace `${VAR}`, `${VAR:-default}` and `${file:PATH}`; `$${` is a literal `${`."""

    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$${":
            return "${"
        body = match.group("body")
        if match.group("close") is None:
            document.problems.append(
                document.problem("unclosed ${ (write $${ for a literal ${)", location)
            )
            return match.group(0)
        if body.startswith("file:"):
            return _read_secret_file(body.removeprefix("file:"), match.group(0), location, document)
        name, has_default, default = body.partition(":-")
        if not _ENV_NAME.fullmatch(name):
            message = f"bad interpolation ${{{body}}}: not a variable name"
            document.problems.append(document.problem(message, location))
            return match.group(0)
        value = os.environ.get(name)
        if value is None or (has_default and not value):
            if has_default:
                return default
            if not document.require_env:
                return match.group(0)
            message = (
                f"environment variable {name} is not set (a literal ${{{name}}} is $${{{name}}})"
            )
            document.problems.append(document.problem(message, location))
            return match.group(0)
        return value

    return _INTERPOLATION.sub(substitute, text)


def _read_secret_file(name: str, spelled: str, location: Location, document: LocatedYaml) -> str:
    path = Path(name).expanduser()
    if not path.is_absolute():
        path = document.base_dir / path
    try:
        return path.read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as error:
        if document.require_env:
            document.problems.append(
                document.problem(f"cannot read {path}: {error.strerror}", location)
            )
        return spelled
