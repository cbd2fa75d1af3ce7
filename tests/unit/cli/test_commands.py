"""The command group loads each command's module only when that command is used."""

from __future__ import annotations

import importlib
import inspect
import subprocess  # noqa: TID251  (a fresh interpreter shows what a command loads)
import sys

import click
import pytest
from click.testing import CliRunner

from image_bot.cli import COMMANDS, cli

# Libraries only `serve`, the GitHub/GitLab forges, an interactive terminal or a PostgreSQL
# state (the `postgres` extra) need.
HEAVY = (
    "github", "gitlab", "apscheduler", "starlette", "uvicorn", "prometheus_client", "rich",
    "requests", "cryptography", "jwt", "pygments", "psycopg", "procrastinate", "alembic",
    "sqlalchemy",
)  # fmt: skip


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_the_table_names_each_command_with_its_own_help(name: str) -> None:
    module, _, attribute = COMMANDS[name][0].partition(":")
    command = getattr(importlib.import_module(module), attribute)
    assert command.name == name
    assert inspect.cleandoc(command.help or "").split("\n\n")[0] == COMMANDS[name][1]


def test_help_lists_the_commands_as_a_group_of_loaded_commands_would() -> None:
    loaded = click.Group(
        "image-bot", help=cli.help, params=cli.params, context_settings=cli.context_settings
    )
    for target, _ in COMMANDS.values():
        module, _, attribute = target.partition(":")
        loaded.add_command(getattr(importlib.import_module(module), attribute))
    runner = CliRunner()
    lazy = runner.invoke(cli, ["--help"], prog_name="image-bot")
    eager = runner.invoke(loaded, ["--help"], prog_name="image-bot")
    assert lazy.exit_code == eager.exit_code == 0
    assert lazy.output == eager.output
    assert "set            Set every reference" in lazy.output


def test_an_unknown_command_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["nope"])
    assert result.exit_code == 2
    assert "No such command 'nope'" in result.output


# What a pass loads (config models, registry client, YAML): not for `run --help`.
PASS_ONLY = ("pydantic", "httpx", "ruamel", "image_bot.config", "image_bot.pipeline")


@pytest.mark.parametrize("args", [["--version"], ["--help"], ["run", "--help"]])
def test_version_and_help_load_no_command_they_do_not_run(args: list[str]) -> None:
    code = (
        "import sys\n"
        "from image_bot.cli import main\n"
        f"try:\n    main({args!r})\nexcept SystemExit:\n    pass\n"
        "print(' '.join(sorted(m for m in sys.modules if m.startswith('image_bot.cli.'))))\n"
        f"print(' '.join(sorted(m for m in sys.modules if m in {HEAVY + PASS_ONLY!r})) or '-')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    commands, heavy = done.stdout.splitlines()[-2:]
    if args[0] == "run":
        assert "image_bot.cli.run" in commands.split()
        assert "image_bot.cli.serve" not in commands.split()
        assert "image_bot.cli.one_pass" not in commands.split()
        assert "Usage: image-bot run [OPTIONS]" in done.stdout
    else:
        assert commands == ""
    assert heavy == "-"
