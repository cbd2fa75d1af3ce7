"""`image-bot tags IMAGE`: list an image's tags and show which one the policy selects."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from image_bot.cli.exit_codes import exits_on_errors
from image_bot.cli.output.tags import tags_json, tags_text
from image_bot.config import Config, PolicySpec
from image_bot.config.load import load_config, load_policy
from image_bot.decide.build import build_policy
from image_bot.errors import ConfigError, register_secret
from image_bot.model import Decision, ImageName, TagFacts, TagList
from image_bot.pipeline import decide
from image_bot.reference import parse_reference
from image_bot.scan.hosts import RegistrySettings
from image_bot.scan.oci import OCIRegistry
from image_bot.wiring.registries import registry_settings

__all__ = ["tags"]


def _policy_spec(text: str | None, config: Config | None, name: ImageName) -> PolicySpec:
    """`--policy` as YAML, @FILE or (with --config) a policy name; else the config's rule
    for the image; else the default policy."""
    if text is None:
        return config.policy_for(name) if config is not None else PolicySpec()
    if config is not None and not text.startswith("@"):
        named = config.named_policy(text)
        if named is not None:
            return named
    return load_policy(text, source="--policy")


def _read_tag_lines(source: str) -> tuple[str, ...]:
    try:
        raw = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"cannot read tags file: {error.strerror}", file=source) from None
    return tuple(line.strip() for line in raw.splitlines() if line.strip())


def _offline_tags(name: ImageName, tags: tuple[str, ...], spec: PolicySpec) -> TagList:
    """A tag list read from a file has no registry behind it. When the policy reads digests
    only to spot tags of the same image, answer "unknown" for every tag so it decides by the
    tag names; a policy that needs more (pin, min-age, platforms, build times) still fails
    with FactsUnavailable, which says what is missing."""
    by_name_only = spec.digest == "never" and not (
        spec.min_age or spec.platforms or spec.newest_build
    )
    facts = {tag: TagFacts() for tag in tags} if by_name_only else {}
    return TagList(image=name, tags=tags, facts=facts)


def _registry_settings(
    config: Config | None,
    name: ImageName,
    *,
    insecure: bool,
    username: str | None,
    password_env: str | None,
) -> list[RegistrySettings]:
    """The config's registries, with the command-line options applied to the image's host."""
    listed = registry_settings(config) if config is not None else []
    if not (insecure or username or password_env):
        return listed
    password = None
    if password_env is not None:
        password = os.environ.get(password_env)
        if password is None:
            raise ConfigError(
                f"environment variable {password_env} is not set", field="--password-env"
            )
        register_secret(password)
    own = next((s for s in listed if s.host == name.registry), RegistrySettings(host=name.registry))
    merged = dataclasses.replace(own, insecure=insecure or own.insecure)
    if username is not None:
        merged = dataclasses.replace(merged, username=username, password=password)
    elif password is not None:
        raise ConfigError("--password-env needs --username", field="--password-env")
    return [merged, *(s for s in listed if s.host != name.registry)]


@click.command()
@click.argument("image")
@click.option(
    "--policy",
    "policy_text",
    metavar="YAML|@FILE|NAME",
    help="Policy as YAML ('semver: ^1.2'), @FILE, or a policy name from --config.",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Config file: its registries, and its policy for IMAGE when --policy is not given.",
)
@click.option(
    "--tags-file",
    metavar="FILE",
    help="Read tags from FILE (one a line, '-' for stdin) instead of the registry.",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON report.")
@click.option("--insecure", is_flag=True, help="Allow plain http to this registry.")
@click.option("--username", help="Registry user (password from --password-env).")
@click.option("--password-env", metavar="VAR", help="Environment variable holding the password.")
@click.option(
    "--docker-config",
    type=click.Path(path_type=Path, dir_okay=False),
    help="docker config.json with credentials (default: $DOCKER_CONFIG or ~/.docker).",
)
@exits_on_errors
def tags(  # click passes options as keywords
    *,
    image: str,
    policy_text: str | None,
    config_path: Path | None,
    tags_file: str | None,
    as_json: bool,
    insecure: bool,
    username: str | None,
    password_env: str | None,
    docker_config: Path | None,
) -> None:
    """List IMAGE's tags, newest first by the policy's ordering, and mark the one it selects.

    IMAGE may carry the current tag (nginx:1.25.3-alpine): the variant and no-downgrade
    rules then apply relative to it. The last line of plain output is the selected tag,
    or `none`. Exit codes: 0 done, 1 the registry failed, 2 bad policy or reference.
    """
    current = parse_reference(image)
    config = load_config(config_path) if config_path is not None else None
    spec = _policy_spec(policy_text, config, current.name)
    policy = build_policy(spec.settings())
    settings = _registry_settings(
        config, current.name, insecure=insecure, username=username, password_env=password_env
    )
    now = datetime.now(UTC)
    if tags_file is not None:
        taglist = _offline_tags(current.name, _read_tag_lines(tags_file), spec)
        decision = asyncio.run(decide(policy, current, taglist, None, now=now))
    else:
        if docker_config is None and config is not None:
            docker_config = config.docker_config

        async def scan_and_decide() -> tuple[TagList, Decision]:
            async with OCIRegistry(settings, docker_config=docker_config) as registry:
                found = await registry.list_tags(current.name)
                for warning in registry.warnings:
                    click.echo(f"warning: {warning}", err=True)
                return found, await decide(policy, current, found, registry, now=now)

        taglist, decision = asyncio.run(scan_and_decide())
    order = policy.newest_first(current, taglist)
    render = tags_json if as_json else tags_text
    click.echo(render(taglist, order, decision))
