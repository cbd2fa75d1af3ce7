"""pydantic's ValidationError -> Problems (and one ConfigError) naming file, line and field."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Mapping
from typing import get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from image_bot.config.located import LocatedYaml, Location, Problem, combined_error, key_spellings
from image_bot.errors import ConfigError

__all__ = ["models_in", "validation_error", "validation_problems"]

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_UNION_TAGS = frozenset({"policy-mapping", "policy-name"})
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


def _spelled_key(mapping: Mapping[object, object], part: str | int) -> str | int | None:
    """The key as the user spelled it (`min_age` for pydantic's `min-age`), if present."""
    return next((key for key in key_spellings(part) if key in mapping), None)


def models_in(annotation: object) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    elif get_origin(annotation) is not None:
        for argument in get_args(annotation):
            yield from models_in(argument)


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
        model = next(models_in(info.annotation), None)
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


def validation_problems(
    error: ValidationError, data: object, root: type[BaseModel], document: LocatedYaml
) -> list[Problem]:
    """Every problem pydantic found, each at the line and location the user wrote."""
    problems = []
    for details in error.errors(include_url=False, include_input=False):
        at = details.get("ctx", {}).get("at", ())  # a model naming its field (stages.located)
        location = _data_location(data, (*details["loc"], *at))
        problems.append(document.problem(_message(details, root, location), location))
    return problems


def validation_error(
    error: ValidationError, data: object, root: type[BaseModel], document: LocatedYaml
) -> ConfigError:
    """pydantic's ValidationError as one ConfigError listing every problem (line order)."""
    return combined_error(validation_problems(error, data, root, document), document)
