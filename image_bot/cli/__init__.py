"""The `image-bot` command: the group and the commands of each area, registered explicitly.

Exit codes: 0 done, 1 something failed (the rest was still done), 2 bad config or usage.
"""

from __future__ import annotations

from collections.abc import Sequence

import click

from image_bot import __version__
from image_bot.cli.config import check_config, config_schema
from image_bot.cli.edit import refs, set_command
from image_bot.cli.history import envs, history
from image_bot.cli.imports import import_group
from image_bot.cli.logs import LogLevelChoice
from image_bot.cli.rollback import rollback_command
from image_bot.cli.run import run
from image_bot.cli.serve import serve
from image_bot.cli.tags import tags

__all__ = ["cli", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="image-bot")
@click.option(
    "--log-level",
    type=LogLevelChoice,
    envvar="IMAGE_BOT_LOG_LEVEL",
    help="Log from this level up, for every command [env IMAGE_BOT_LOG_LEVEL; default: run"
    " warning (info with --log-format json), serve info].",
)
def cli(log_level: str | None) -> None:
    """image-bot: keep the image references of a GitOps repository up to date."""


_COMMANDS = (tags, refs, set_command, history, envs, run, rollback_command, check_config)
for _command in (*_COMMANDS, config_schema, import_group):
    cli.add_command(_command)
cli.add_command(serve)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the `image-bot` command."""
    cli.main(args=argv, prog_name="image-bot")
