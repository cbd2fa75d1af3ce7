"""`image-bot check-config FILE` and `image-bot config-schema`."""

from __future__ import annotations

from pathlib import Path

import click

from image_bot.cli.exit_codes import exits_on_errors
from image_bot.config.load import load_config
from image_bot.config.schema import config_schema_text, reference_markdown

__all__ = ["check_config", "config_schema"]


@click.command("check-config")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--allow-missing-secrets",
    is_flag=True,
    help="Keep unset ${VAR} and unreadable ${file:...} as written (check the shape in CI).",
)
@exits_on_errors
def check_config(*, file: Path, allow_missing_secrets: bool) -> None:
    """Validate FILE: its shape, every policy, and every name it refers to.

    Errors name the file, line and field. Exit codes: 0 valid, 2 invalid.
    """
    config = load_config(file, require_env=not allow_missing_secrets)
    click.echo(
        f"{file}: ok ({len(config.repositories)} repositories, {len(config.registries)}"
        f" registries, {len(config.policies)} named policies, {len(config.images)} image rules)"
    )


@click.command("config-schema")
@click.option("--markdown", is_flag=True, help="Print the option reference as Markdown instead.")
def config_schema(*, markdown: bool) -> None:
    """Print the config file's JSON Schema (point your editor's YAML plugin at it)."""
    click.echo(reference_markdown() if markdown else config_schema_text(), nl=False)
