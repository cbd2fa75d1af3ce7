"""The CI recipes in examples/ stay runnable: valid YAML, scheduled, and every image-bot
command line in them parses with today's CLI (a renamed option would break users' jobs)."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from image_bot.cli import cli

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def load(name: str) -> dict[str, object]:
    data = YAML(typ="safe", pure=True).load((EXAMPLES / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def image_bot_commands(lines: list[str]) -> list[list[str]]:
    return [
        shlex.split(line)[1:]
        for text in lines
        for line in text.splitlines()
        if line.strip().startswith("image-bot ")
    ]


def assert_parses(argv: list[str]) -> None:
    command = cli.commands[argv[0]]
    command.make_context(argv[0], argv[1:])  # raises click.UsageError on unknown options


def test_github_actions_workflow() -> None:
    workflow = load("github-actions.yml")
    # YAML 1.1 reads the key `on` as True; GitHub reads it as "on"
    triggers = workflow.get("on", workflow.get(True))
    assert isinstance(triggers, dict)
    assert len(triggers["schedule"][0]["cron"].split()) == 5
    (job,) = workflow["jobs"].values()
    runs = [step["run"] for step in job["steps"] if "run" in step]
    commands = image_bot_commands(runs)
    assert [argv[0] for argv in commands] == ["check-config", "run"]
    for argv in commands:
        assert_parses(argv)
    run_step = next(step for step in job["steps"] if "run --once" in step.get("run", ""))
    assert all(value.startswith("${{ ") for value in run_step["env"].values())


def test_gitlab_ci_job() -> None:
    (job,) = load("gitlab-ci.yml").values()
    assert isinstance(job, dict)
    assert {"if": '$CI_PIPELINE_SOURCE == "schedule"'} in job["rules"]
    commands = image_bot_commands(job["script"])
    assert [argv[0] for argv in commands] == ["check-config", "run"]
    for argv in commands:
        assert_parses(argv)


@pytest.mark.parametrize("argv", [["run", "--onse"], ["check-config"]])
def test_the_parse_check_catches_a_broken_command_line(argv: list[str]) -> None:
    import click

    with pytest.raises(click.UsageError):
        assert_parses(argv)
