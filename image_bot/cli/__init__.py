"""The `image-bot` command: the group and the commands of each area, registered explicitly.

Each command's module is imported only when that command runs (or its help is shown), so
`image-bot --version`, `--help` and `run --once` do not pay for the service, forge and
terminal libraries they do not use. The group's own help lists the commands from the table
below; a test keeps that text equal to the commands' docstrings.

Exit codes: 0 done, 1 something failed (the rest was still done), 2 bad config or usage.
"""

from __future__ import annotations

import gc
import importlib
import sys
from collections.abc import Iterator, Sequence
from typing import Any

import click

from image_bot import __version__

__all__ = ["COMMANDS", "LOG_LEVELS", "LogLevelChoice", "cli", "main", "started"]

# The group's `--log-level` (and run/serve's, through cli.logs): defined here, so that the
# group does not load the logging setup for `--version` or `--help`.
LOG_LEVELS = ("debug", "info", "warning", "error")
LogLevelChoice = click.Choice(LOG_LEVELS, case_sensitive=False)

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
    "envs": (
        "image_bot.cli.history:envs",
        "The matrix of stage x image: the version each stage runs, since when, and how far it is"
        "\nbehind its upstream (versions, and since when).",
    ),
    "history": (
        "image_bot.cli.history:history",
        "For every stage and image, the versions it ran: since when, until when, the commit, its"
        "\nauthor, the pull request that merged it, and the upstream stage it was promoted from.",
    ),
    "import": (
        "image_bot.cli.imports:import_group",
        "Write an image-bot config from Flux or Argo CD Image Updater settings.",
    ),
    "refs": (
        "image_bot.cli.edit:refs",
        "The inventory of image references under PATH (a directory or one file), then the files"
        "\nskipped and why.",
    ),
    "rollback": (
        "image_bot.cli.rollback:rollback_command",
        "Open a pull request rolling STAGE back to an earlier version of IMAGE (a glob).",
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
        "Set every reference to IMAGE (matched by normalized name) to TAG under PATH (a directory"
        "\nor one file), printing the diff. Exits 1 when an IMAGE has no reference there.",
    ),
    "tags": (
        "image_bot.cli.tags:tags",
        "List IMAGE's tags, newest first by the policy's ordering, and mark the one it selects.",
    ),
}


# Commands whose module holds only their options: they import their work when they run (so
# their `--help` loads none of it) and call `started` once it is loaded.
_LOAD_WHEN_RUN = frozenset({"run"})


class _Commands(dict[str, click.Command]):
    """The group's commands by name; a command's module is imported on first lookup.

    Names (`in`, iteration, `len`) come from the table without importing anything.
    """

    def __missing__(self, name: str) -> click.Command:
        if name not in COMMANDS:
            raise KeyError(name)
        module, _, attribute = COMMANDS[name][0].partition(":")
        command: click.Command = getattr(importlib.import_module(module), attribute)
        if name not in _LOAD_WHEN_RUN:
            started()
        self[name] = command
        return command

    def get(self, name: str, default: click.Command | None = None) -> click.Command | None:  # type: ignore[override]
        try:
            return self[name]
        except KeyError:
            return default

    def loaded(self, name: str) -> click.Command | None:
        """The command if its module is imported already, else None (imports nothing)."""
        return dict.get(self, name)

    def __contains__(self, name: object) -> bool:
        return dict.__contains__(self, name) or name in COMMANDS

    def __iter__(self) -> Iterator[str]:
        return iter(sorted({*dict.keys(self), *COMMANDS}))

    def __len__(self) -> int:
        return len({*dict.keys(self), *COMMANDS})


class LazyGroup(click.Group):
    """A group whose commands are imported when one is looked up (`_Commands`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lazy = _Commands(self.commands)
        self.commands = self._lazy

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list from the table, without importing any command."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            # a loaded command, or a stand-in with its help: click shortens both alike
            loaded = self._lazy.loaded(name)
            command = loaded or click.Command(name, help=COMMANDS[name][1])
            rows.append((name, command.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
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


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the `image-bot` command."""
    # httpx imports its own command-line tool (and with it rich and pygments, ~0.15 s)
    # whenever those are installed; this process never runs it, so httpx gets its stub.
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
    # Start-up (imports: modules, classes, schemas) makes objects that live as long as the
    # process; collecting garbage among them is wasted work (~0.03 s of a pass), so the
    # collector waits until the command is loaded (`started`).
    gc.disable()
    try:
        cli.main(args=argv, prog_name="image-bot")
    finally:
        gc.enable()


def started() -> None:
    """The command is loaded: what start-up made is kept out of every later collection
    (`gc.freeze`), and the collector runs again. Nothing when `main` did not pause it, or
    once it has run."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()
