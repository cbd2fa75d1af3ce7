"""`image-bot tags IMAGE`: list an image's tags and show which one the policy selects."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from image_bot.app import render
from image_bot.app.exit_codes import exits_on_errors
from image_bot.decide.build import build_policy, parse_policy
from image_bot.errors import ConfigError
from image_bot.model import Decision, ImageName, TagList
from image_bot.pipeline import decide
from image_bot.reference import parse_reference
from image_bot.scan.hosts import RegistrySettings
from image_bot.scan.oci import OCIRegistry

__all__ = ["tags"]


def _load_policy_text(text: str | None) -> object:
    """`--policy` takes YAML inline (`'semver: ^1.2'`) or `@FILE`."""
    if text is None:
        return {}
    source = "--policy"
    if text.startswith("@"):
        source = text[1:]
        try:
            text = Path(source).read_text(encoding="utf-8")
        except OSError as error:
            raise ConfigError(f"cannot read policy file: {error.strerror}", file=source) from None
    return render.load_yaml(text, source=source)


def _read_tag_lines(source: str) -> tuple[str, ...]:
    try:
        raw = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"cannot read tags file: {error.strerror}", file=source) from None
    return tuple(line.strip() for line in raw.splitlines() if line.strip())


def _registry_settings(
    name: ImageName, *, insecure: bool, username: str | None, password_env: str | None
) -> list[RegistrySettings]:
    password = None
    if password_env is not None:
        import os  # noqa: PLC0415  (only this option reads the environment)

        password = os.environ.get(password_env)
        if password is None:
            raise ConfigError(f"environment variable {password_env} is not set", field="--password-env")
    if not (insecure or username):
        return []
    return [
        RegistrySettings(host=name.registry, insecure=insecure, username=username, password=password)
    ]


@click.command()
@click.argument("image")
@click.option("--policy", "policy_text", metavar="YAML|@FILE", help="Policy as YAML, or @FILE.")
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
def tags(
    image: str,
    policy_text: str | None,
    tags_file: str | None,
    as_json: bool,
    insecure: bool,
    username: str | None,
    password_env: str | None,
    docker_config: Path | None,
) -> None:
    """List IMAGE's tags and mark the one the policy selects.

    IMAGE may carry the current tag (nginx:1.25.3-alpine): the variant and no-downgrade
    rules then apply relative to it. The last line of plain output is the selected tag,
    or `none`.
    """
    current = parse_reference(image)
    policy = build_policy(parse_policy(_load_policy_text(policy_text), source="--policy"))
    now = datetime.now(UTC)
    if tags_file is not None:
        taglist = TagList(image=current.name, tags=_read_tag_lines(tags_file))
        decision = asyncio.run(decide(policy, current, taglist, None, now=now))
    else:
        settings = _registry_settings(
            current.name, insecure=insecure, username=username, password_env=password_env
        )

        async def scan_and_decide() -> tuple[TagList, Decision]:
            async with OCIRegistry(settings, docker_config=docker_config) as registry:
                found = await registry.list_tags(current.name)
                return found, await decide(policy, current, found, registry, now=now)

        taglist, decision = asyncio.run(scan_and_decide())
    click.echo(
        render.tags_json(taglist, decision) if as_json else render.tags_text(taglist, decision)
    )
