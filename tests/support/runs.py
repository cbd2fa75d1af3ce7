"""Run `image-bot run --once` the way a cron job does (the real CLI, `--json`), for e2e tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from image_bot.app.cli import cli

__all__ = ["run_once", "run_once_ok"]


def run_once(config: Path, work: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    """One stateless pass with clones under `work/cache`: (exit code, the JSON report)."""
    args = ["run", "--once", "--json", "--config", str(config), "--no-state",
            "--cache-dir", str(work / "cache"), *extra]  # fmt: skip
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.stdout.startswith("{"), result.output
    return result.exit_code, json.loads(result.stdout)


def run_once_ok(config: Path, work: Path, *extra: str) -> dict[str, Any]:
    """`run_once` that must exit 0; the JSON report."""
    code, report = run_once(config, work, *extra)
    assert code == 0, report
    return report
