"""The command config.example.yaml's header tells a new user to run checks it clean, on a
machine that has none of the example's secrets (issue 14, item 13); without the flag it
names the first missing secret with file and line, which is what a deploy job wants."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from image_bot.cli import cli

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "config.example.yaml"


def header_command() -> list[str]:
    (line,) = [line for line in EXAMPLE.read_text().splitlines() if line.startswith("# Check it:")]
    words = shlex.split(line.removeprefix("# Check it:"))
    assert words[0] == "image-bot"
    return words[1:]


def test_the_headers_command_checks_the_example_clean(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GHCR_TOKEN", "GITHUB_TOKEN", "GITLAB_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(cli, header_command())
    assert result.exit_code == 0, result.output
    assert result.output.startswith("config.example.yaml: ok (")


def test_without_the_flag_a_missing_secret_is_named_with_its_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("GHCR_TOKEN", raising=False)
    monkeypatch.chdir(ROOT)
    args = [arg for arg in header_command() if arg != "--allow-missing-secrets"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    assert "config.example.yaml:" in result.output
    assert "GHCR_TOKEN is not set" in result.output
