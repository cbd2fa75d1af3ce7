"""Load the config file (and `--policy`): YAML with lines and interpolation, pydantic
validation, named-policy and policy-builder checks; every problem is a ConfigError naming
file, line and field (exit code 2).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from pydantic import BaseModel, SecretStr, ValidationError

from image_bot.config import Config, PolicySpec, RepositorySpec
from image_bot.config.errors import validation_error, validation_problems
from image_bot.config.located import LocatedYaml, Location, Problem, combined_error, read_yaml
from image_bot.decide.build import build_policy
from image_bot.errors import ConfigError, register_secret
from image_bot.yaml_path import format_yaml_path

__all__ = [
    "default_state_dir",
    "load_config",
    "load_policy",
    "load_repository_settings",
    "parse_config",
]


def default_state_dir() -> Path:
    """`$XDG_STATE_HOME/image-bot`, or `~/.local/state/image-bot`."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "image-bot"


# --- the config file -------------------------------------------------------------------------


def load_config(path: Path, *, require_env: bool = True) -> Config:
    """Read, interpolate and validate the config file at `path`.

    Relative paths in it (`state_dir`, `docker_config`, `${file:...}`) are relative to the
    file's directory; `state_dir` is always set on the result. With `require_env=False`, an
    unset `${VAR}` or unreadable `${file:}` stays as written (for checking shape without
    secrets). Secrets are registered for redaction. Raises ConfigError.
    """
    text = _read(path, "config file")
    return parse_config(text, source=str(path), base_dir=path.parent, require_env=require_env)


def _read(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
        raise ConfigError(f"cannot read {what}: {reason}", file=str(path)) from None


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
    bot's environment and files, so there every string is taken as written.
    """
    document = read_yaml(
        text,
        source=source,
        base_dir=base_dir,
        require_env=require_env,
        interpolate=interpolate,
        collect=True,
    )
    data = document.data
    if data is None:
        raise document.error(_EMPTY, ())
    if not isinstance(data, dict):
        raise document.error("the config file is a mapping (key: value)", ())
    problems = list(document.problems)
    config: Config | None = None
    try:
        config = Config.model_validate(data)
    except ValidationError as error:
        problems += validation_problems(error, data, Config, document)
    problems += _unknown_policy_names(data, document)
    problems += _policy_meaning_problems(data, document)
    if problems or config is None:
        raise combined_error(_one_per_location(problems), document)
    _register_secrets(config)
    return _resolve_paths(config, base_dir)


_EMPTY = (
    "the config file is empty; it needs at least `repositories` (or `github_app`):"
    " see config.example.yaml"
)


def _one_per_location(problems: list[Problem]) -> list[Problem]:
    """The first problem at each location: a `${VAR}` left unset also fails its type check."""
    seen: dict[Location, Problem] = {}
    for problem in problems:
        seen.setdefault(problem.location, problem)
    return list(seen.values())


def _written_policies(data: dict[object, object]) -> Iterator[tuple[Location, object]]:
    """Every policy mapping written in the file, with its location (named, default, inline)."""
    policies = data.get("policies")
    if isinstance(policies, dict):
        for name, policy in policies.items():
            if isinstance(name, str):
                yield ("policies", name), policy
    if "default_policy" in data:
        yield ("default_policy",), data["default_policy"]
    images = data.get("images")
    for index, entry in enumerate(images if isinstance(images, list) else ()):
        if isinstance(entry, dict) and isinstance(entry.get("policy"), dict):
            yield ("images", index, "policy"), entry["policy"]


def _unknown_policy_names(data: dict[object, object], document: LocatedYaml) -> list[Problem]:
    """`images[].policy` names that `policies` lacks."""
    policies = data.get("policies")
    names = set(policies) if isinstance(policies, dict) else set()
    known = ", ".join(sorted(str(name) for name in names)) or "none defined"
    images = data.get("images")
    return [
        document.problem(
            f"no policy named {entry['policy']!r} in policies ({known})",
            ("images", index, "policy"),
        )
        for index, entry in enumerate(images if isinstance(images, list) else ())
        if isinstance(entry, dict)
        and isinstance(entry.get("policy"), str)
        and entry["policy"] not in names
    ]


def _policy_meaning_problems(data: dict[object, object], document: LocatedYaml) -> list[Problem]:
    """Build every well-shaped policy once, so a bad range or regex is found at load time,
    with its line, also when other parts of the file are wrong."""
    problems = []
    for location, written in _written_policies(data):
        try:
            policy = PolicySpec.model_validate({} if written is None else written)
        except ValidationError:
            continue  # its shape is already reported
        field = format_yaml_path(location)
        try:
            build_policy(policy.settings(), field=field)
        except ConfigError as error:
            inner = (error.field or field).removeprefix(field).lstrip(".")
            where = (*location, *inner.split(".")) if inner else location
            reason = error.message.removeprefix(f"{error.field}: ")
            problems.append(document.problem(reason, where))
    return problems


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
    document = read_yaml(text, source=source, base_dir=Path(), interpolate=False)
    data = {} if document.data is None else document.data
    if not isinstance(data, dict):
        raise document.error("a policy is a mapping, such as 'semver: ^1.2'", ())
    try:
        return PolicySpec.model_validate(data)
    except ValidationError as error:
        raise validation_error(error, data, PolicySpec, document) from None


# --- a repository's own settings file ---------------------------------------------------------


def load_repository_settings(path: Path, *, url: str) -> RepositorySpec:
    """A repository's settings file (GitHub App mode's `.github/image-bot.yml`: one repository
    entry without `url`, `project` and `forge`), as the RepositorySpec of `url`; never
    interpolated. For commands that read a repository on disk (`history`, `envs`)."""
    text = _read(path, "settings file")
    document = read_yaml(text, source=str(path), base_dir=path.parent, interpolate=False)
    data = {} if document.data is None else document.data
    if not isinstance(data, dict):
        raise document.error("the settings file is a mapping (key: value)", ())
    full = {"forge": {"type": "github"}, **data, "url": url}
    try:
        return RepositorySpec.model_validate(full)
    except ValidationError as error:
        raise validation_error(error, full, RepositorySpec, document) from None
