"""The `image-bot` command: the group and the commands of each area, registered explicitly.

Each command's module is imported only when that command runs (or its help is shown), so
`image-bot --version`, `--help` and `run --once` do not pay for the service, forge and
terminal libraries they do not use. The group's own help lists the commands from the table
below; a test keeps that text equal to the commands' docstrings.

Exit codes: 0 done, 1 something failed (the rest was still done), 2 bad config or usage.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

import click

from image_bot import __version__

__all__ = ["COMMANDS", "cli", "main"]

# name -> (module:attribute, the first paragraph of the command's docstring)
COMMANDS: dict[str, tuple[str, str]] = {
    "check-config": (
        "image_bot.cli.config:check_config",
        "Validate FILE: its shape, every policy, and every name it refers to.",
    ),
    "config-schema": (
        "image_bot.cli.config:config_schema",
        "Print the config file's JSON Schema (point your editor's YAML plugin at it).",
    ),
    "refs": (
        "image_bot.cli.edit:refs",
        "The inventory of image references under PATH, then the files skipped and why.",
    ),
    "run": (
        "image_bot.cli.run:run",
        "Scan registries, decide, edit each repository and push the bot's branches, once.",
    ),
    "serve": (
        "image_bot.cli.serve:serve",
        "Run passes on a schedule and on webhooks; serve probes, metrics and a status page.",
    ),
    "set": (
        "image_bot.cli.edit:set_command",
        "Set every reference to IMAGE (matched by normalized name) to TAG, printing the diff.",
    ),
    "tags": ("image_bot.cli.tags:tags", "List IMAGE's tags and mark the one the policy selects."),
}


class LazyGroup(click.Group):
    """A group that imports a command's module when the command is looked up."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands or cmd_name not in COMMANDS:
            return super().get_command(ctx, cmd_name)
        module, _, attribute = COMMANDS[cmd_name][0].partition(":")
        command: click.Command = getattr(importlib.import_module(module), attribute)
        self.add_command(command, cmd_name)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list from the table, without importing any command."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            # a loaded command, or a stand-in with its help: click shortens both alike
            command = self.commands.get(name) or click.Command(name, help=COMMANDS[name][1])
            rows.append((name, command.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="image-bot")
def cli() -> None:
    """image-bot: keep the image references of a GitOps repository up to date."""


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the `image-bot` command."""
    # httpx imports its own command-line tool (and with it rich and pygments, ~0.15 s)
    # whenever those are installed; this process never runs it, so httpx gets its stub.
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
    cli.main(args=argv, prog_name="image-bot")
