"""Read the config file: YAML with line numbers, ${ENV}/${file:} interpolation, and every
validation error as a ConfigError naming file, line and field (exit code 2).
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import get_args, get_origin

from pydantic import BaseModel, SecretStr, ValidationError
from pydantic_core import ErrorDetails
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from image_bot.decide.build import build_policy
from image_bot.errors import ConfigError, register_secret
from image_bot.spec import Config, PolicySpec

__all__ = ["default_state_dir", "format_location", "load_config", "load_policy", "parse_config"]

Location = tuple[str | int, ...]

_INTERPOLATION = re.compile(r"\$\$\{|\$\{(?P<body>[^}]*)(?P<close>\})?")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_UNION_TAGS = frozenset({"policy-mapping", "policy-name"})
_MORE_ERRORS = 10
# pydantic's words for Python types, in the YAML user's words
_PLAIN_MESSAGES = {
    "tuple_type": "should be a list (items on lines starting with -)",
    "list_type": "should be a list (items on lines starting with -)",
    "dict_type": "should be a mapping (key: value lines)",
    "model_type": "should be a mapping (key: value lines)",
    "time_delta_type": "should be a duration: 90m, 36h, 7d, 1w2d or a number of seconds",
    "time_delta_parsing": "should be a duration: 90m, 36h, 7d, 1w2d or a number of seconds",
    "path_type": "should be a path (text)",
}
_MAX_NODES = 100_000  # aliases can make a small file expand exponentially ("billion laughs")


@dataclass
class _Document:
    """Plain data (dicts, lists, scalars) and the line of every key and list item."""

    source: str
    base_dir: Path
    require_env: bool = True
    interpolate: bool = True
    lines: dict[Location, int] = field(default_factory=lambda: {(): 1})
    nodes: int = 0

    def line_of(self, location: Location) -> int:
        """The line of `location`, or of its nearest parent that has one."""
        for end in range(len(location), -1, -1):
            *parents, last = location[:end] or ("",)
            for spelling in _spellings(last):
                line = self.lines.get((*parents, spelling) if end else ())
                if line is not None:
                    return line
        return 1

    def error(self, message: str, location: Location) -> ConfigError:
        return ConfigError(
            message,
            file=self.source,
            line=self.line_of(location),
            field=format_location(location) or None,
        )


def format_location(location: Location) -> str:
    """`('repositories', 0, 'forge')` -> `repositories[0].forge`."""
    out = ""
    for part in location:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _IDENTIFIER.fullmatch(part):
            out += f".{part}" if out else part
        else:
            out += f'["{part}"]'
    return out


def default_state_dir() -> Path:
    """`$XDG_STATE_HOME/image-bot`, or `~/.local/state/image-bot`."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "image-bot"


# --- YAML with lines -------------------------------------------------------------------------


def _parse_yaml(text: str, source: str) -> object:
    try:
        return YAML(typ="rt", pure=True).load(text)
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = error.problem or error.context or "syntax error"
        raise ConfigError(f"invalid YAML: {problem}", file=source, line=line) from None
    except YAMLError as error:
        raise ConfigError(f"invalid YAML: {error}", file=source) from None


def _plain(node: object, location: Location, document: _Document) -> object:
    """Copy the ruamel tree into plain values, noting lines and interpolating strings."""
    document.nodes += 1
    if document.nodes > _MAX_NODES:
        raise document.error(f"more than {_MAX_NODES} values (aliases expanding?)", location)
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
        return _interpolate(str(node), location, document)
    if isinstance(node, bool):
        return bool(node)
    if isinstance(node, int):  # ruamel's ScalarInt keeps hex/underscore spelling: drop it
        return int(node)
    if isinstance(node, float):
        return float(node)
    return node


def _interpolate(text: str, location: Location, document: _Document) -> str:
    """Replace `${VAR}`, `${VAR:-default}` and `${file:PATH}`; `$${` is a literal `${`."""

    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$${":
            return "${"
        if not document.interpolate:
            raise document.error(
                "${...} is not allowed here (write $${ for a literal ${)", location
            )
        body = match.group("body")
        if match.group("close") is None:
            raise document.error("unclosed ${ (write $${ for a literal ${)", location)
        if body.startswith("file:"):
            return _read_secret_file(body.removeprefix("file:"), match.group(0), location, document)
        name, has_default, default = body.partition(":-")
        if not _ENV_NAME.fullmatch(name):
            raise document.error(f"bad interpolation ${{{body}}}: not a variable name", location)
        value = os.environ.get(name)
        if value is None or (has_default and not value):
            if has_default:
                return default
            if not document.require_env:
                return match.group(0)
            raise document.error(f"environment variable {name} is not set", location)
        return value

    return _INTERPOLATION.sub(substitute, text)


def _read_secret_file(name: str, spelled: str, location: Location, document: _Document) -> str:
    path = Path(name).expanduser()
    if not path.is_absolute():
        path = document.base_dir / path
    try:
        return path.read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as error:
        if not document.require_env:
            return spelled
        raise document.error(f"cannot read {path}: {error.strerror}", location) from None


# --- pydantic errors -> ConfigError --------------------------------------------------------


def _data_location(data: object, loc: tuple[str | int, ...]) -> Location:
    """Map a pydantic `loc` onto the keys the user wrote (drop union tags, keep spelling)."""
    out: list[str | int] = []
    node = data
    for position, part in enumerate(loc):
        if part in _UNION_TAGS:
            continue
        if isinstance(node, dict):
            key = _spelled_key(node, part)
            if key is not None:
                out.append(key)
                node = node[key]
            elif position == len(loc) - 1 or not isinstance(part, str):
                out.append(part)
            continue
        if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            out.append(part)
            node = node[part]
            continue
        node = None
        if isinstance(part, int) or _IDENTIFIER.fullmatch(part):
            out.append(part)
    return tuple(out)


def _spellings(part: str | int) -> tuple[str | int, ...]:
    """`min_age` and `min-age`: policy keys accept both."""
    if isinstance(part, int):
        return (part,)
    return (part, part.replace("-", "_"), part.replace("_", "-"))


def _spelled_key(mapping: Mapping[object, object], part: str | int) -> str | int | None:
    """The key as the user spelled it (`min_age` for pydantic's `min-age`), if present."""
    return next((key for key in _spellings(part) if key in mapping), None)


def _models_in(annotation: object) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    elif get_origin(annotation) is not None:
        for argument in get_args(annotation):
            yield from _models_in(argument)


def _allowed_keys(root: type[BaseModel], location: Location) -> list[str]:
    """The keys allowed in the mapping at `location` (for an unknown-key hint)."""
    model: type[BaseModel] | None = root
    for part in location:
        if model is None:
            return []
        if isinstance(part, int):
            continue
        fields = dict(model.model_fields)
        fields |= {info.alias: info for info in model.model_fields.values() if info.alias}
        info = fields.get(part)
        if info is None:  # a key of a dict such as `policies`
            continue
        model = next(_models_in(info.annotation), None)
    if model is None:
        return []
    return [info.alias or name for name, info in model.model_fields.items()]


def _message(error: ErrorDetails, root: type[BaseModel], location: Location) -> str:
    if error["type"] == "extra_forbidden":
        allowed = _allowed_keys(root, location[:-1])
        close = difflib.get_close_matches(str(location[-1]), allowed, n=1, cutoff=0.5)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return f"unknown key{hint} (allowed: {', '.join(allowed)})"
    if error["type"] in _PLAIN_MESSAGES:
        return _PLAIN_MESSAGES[error["type"]]
    return error["msg"].removeprefix("Value error, ")


def _validation_error(
    error: ValidationError, data: object, root: type[BaseModel], document: _Document
) -> ConfigError:
    found = []
    for details in error.errors(include_url=False, include_input=False):
        location = _data_location(data, details["loc"])
        found.append((document.line_of(location), location, _message(details, root, location)))
    found.sort(key=lambda item: item[0])
    line, location, message = found[0]
    more = [
        f"{document.source}:{line_}: {format_location(location_)}: {message_}"
        for line_, location_, message_ in found[1 : 1 + _MORE_ERRORS]
    ]
    if len(found) > 1 + _MORE_ERRORS:
        more.append(f"... and {len(found) - 1 - _MORE_ERRORS} more")
    text = "\n".join([message, *more])
    return ConfigError(
        text, file=document.source, line=line, field=format_location(location) or None
    )


# --- the config file -------------------------------------------------------------------------


def load_config(path: Path, *, require_env: bool = True) -> Config:
    """Read, interpolate and validate the config file at `path`.

    Relative paths in it (`state_dir`, `docker_config`, `${file:...}`) are relative to the
    file's directory; `state_dir` is always set on the result. With `require_env=False`, an
    unset `${VAR}` or unreadable `${file:}` stays as written (for checking shape without
    secrets). Secrets are registered for redaction. Raises ConfigError.
    """
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
        raise ConfigError(f"cannot read config file: {reason}", file=source) from None
    return parse_config(text, source=source, base_dir=path.parent, require_env=require_env)


def parse_config(
    text: str,
    *,
    source: str,
    base_dir: Path,
    require_env: bool = True,
    interpolate: bool = True,
) -> Config:
    """`load_config` for text already read (`source` names it in errors).

    Pass `interpolate=False` for text the operator did not write (a config file found in a
    repository, GitHub App mode): `${VAR}` and `${file:...}` would let its authors read the
    bot's environment and files, so there they are errors.
    """
    document = _Document(
        source=source, base_dir=base_dir, require_env=require_env, interpolate=interpolate
    )
    data = _plain(_parse_yaml(text, source), (), document)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise document.error("the config file is a mapping (key: value)", ())
    try:
        config = Config.model_validate(data)
    except ValidationError as error:
        raise _validation_error(error, data, Config, document) from None
    for location, name in config.policy_references():
        if name not in config.policies:
            known = ", ".join(sorted(config.policies)) or "none defined"
            raise document.error(f"no policy named {name!r} in policies ({known})", location)
    _check_policies(config, document)
    _register_secrets(config)
    return _resolve_paths(config, base_dir)


def _check_policies(config: Config, document: _Document) -> None:
    """Build every policy once, so a bad range or regex fails at load time with its line."""
    for location, policy in config.policy_specs():
        field = format_location(location)
        try:
            build_policy(policy, field=field)
        except ConfigError as error:
            inner = (error.field or field).removeprefix(field).lstrip(".")
            where = (*location, *inner.split(".")) if inner else location
            reason = error.message.removeprefix(f"{error.field}: ")
            raise document.error(reason, where) from None


def _resolve_paths(config: Config, base_dir: Path) -> Config:
    def resolve(path: Path) -> Path:
        path = path.expanduser()
        return path if path.is_absolute() else base_dir / path

    state_dir = resolve(config.state_dir) if config.state_dir else default_state_dir()
    docker_config = resolve(config.docker_config) if config.docker_config else None
    return config.model_copy(update={"state_dir": state_dir, "docker_config": docker_config})


def _register_secrets(value: object) -> None:
    """Walk the validated config and register every SecretStr for redaction."""
    if isinstance(value, SecretStr):
        register_secret(value.get_secret_value())
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            _register_secrets(getattr(value, name))
    elif isinstance(value, dict):
        for item in value.values():
            _register_secrets(item)
    elif isinstance(value, tuple | list):
        for item in value:
            _register_secrets(item)


# --- --policy ----------------------------------------------------------------------------------


def load_policy(text: str, *, source: str) -> PolicySpec:
    """Read a policy given as YAML text (`'semver: ^1.2'`) or `@FILE`; errors name `source`
    (or FILE), the line and the field. An empty text is the default policy."""
    if text.startswith("@"):
        source = text[1:]
        try:
            text = Path(source).read_text(encoding="utf-8")
        except OSError as error:
            raise ConfigError(f"cannot read policy file: {error.strerror}", file=source) from None
    document = _Document(source=source, base_dir=Path())
    data = _plain(_parse_yaml(text, source), (), document)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise document.error("a policy is a mapping, such as 'semver: ^1.2'", ())
    try:
        return PolicySpec.model_validate(data)
    except ValidationError as error:
        raise _validation_error(error, data, PolicySpec, document) from None
