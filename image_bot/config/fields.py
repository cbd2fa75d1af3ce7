"""Value types and checks the config sections share: templates, YAML paths, secrets, globs."""

from __future__ import annotations

import re
import string
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, SecretStr

from image_bot.publish.pr.templates import FORMAT_FIELDS, TemplateError, check_template, is_jinja
from image_bot.yaml_path import parse_yaml_path

__all__ = [
    "TEMPLATE_FIELDS",
    "BranchSafe",
    "CronText",
    "OptionalSecret",
    "Positive",
    "RepoPath",
    "Section",
    "Template",
    "parse_yaml_path",
]


TEMPLATE_FIELDS = FORMAT_FIELDS
"""Names a commit or pull-request template may use, as `{name}` (`str.format` syntax);
a template with `{{` or `{%` is Jinja2 instead (`publish.pr.templates`)."""

_BRANCH_SAFE = re.compile(r"[A-Za-z0-9._/-]*")
_CRON_FIELDS = (5, 6)


def _check_template(text: str) -> str:
    if is_jinja(text):
        try:
            check_template(text)
        except TemplateError as error:
            msg = f"bad Jinja2 template: {error}"
            raise ValueError(msg) from None
        return text
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError as error:
        msg = f"bad template ({error}); a literal brace cannot be written in this style: use Jinja2"
        raise ValueError(msg) from None
    unknown = sorted(names - TEMPLATE_FIELDS)
    if unknown:
        msg = f"unknown template field {{{unknown[0]}}}; use one of " + ", ".join(
            f"{{{name}}}" for name in sorted(TEMPLATE_FIELDS)
        )
        raise ValueError(msg)
    return text


def _check_branch_safe(text: str) -> str:
    parts = text.split("/")
    if (
        not _BRANCH_SAFE.fullmatch(text)
        or ".." in text
        or text.startswith(("/", "-"))
        or "" in parts[:-1]  # `a//b`
        or any(part.startswith(".") or part.endswith((".lock", ".")) for part in parts)
    ):
        msg = (
            "use letters, digits and . _ / - (a git branch name part: no part starting with"
            " . or ending with . or .lock)"
        )
        raise ValueError(msg)
    return text


def _check_cron(text: str) -> str:
    if len(text.split()) not in _CRON_FIELDS:
        msg = "a cron expression has 5 fields: minute hour day-of-month month day-of-week"
        raise ValueError(msg)
    return text


def _check_relative(text: str) -> str:
    if text.startswith("/") or ".." in text.split("/"):
        msg = "a path inside the repository (relative, without ..)"
        raise ValueError(msg)
    return text


def _empty_is_none(value: object) -> object:
    return None if value == "" else value


Template = Annotated[str, AfterValidator(_check_template)]
OptionalSecret = Annotated[SecretStr | None, BeforeValidator(_empty_is_none)]
"""A secret that may be absent; an empty string (`${VAR:-}` with VAR unset) is absent."""
BranchSafe = Annotated[str, AfterValidator(_check_branch_safe)]
RepoPath = Annotated[str, AfterValidator(_check_relative)]
Positive = Annotated[int, Field(ge=1)]
CronText = Annotated[str, AfterValidator(_check_cron)]


class Section(BaseModel):
    """Base of the config-file sections: unknown keys are errors, field docstrings describe."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)
