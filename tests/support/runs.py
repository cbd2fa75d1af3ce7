"""Run `image-bot run --once` the way a cron job does (the real CLI, `--json`), for e2e tests."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from image_bot.cli import cli
from image_bot.cli.output.report import report_dict
from image_bot.config.load import load_config
from image_bot.pipeline import PassOptions, run_pass
from image_bot.wiring.forges import Forges
from image_bot.wiring.passes import registry_opener
from tests.fakeforge.control import FakeForge
from tests.support.registry import RunningRegistry

__all__ = ["github_repository", "pass_at", "run_once", "run_once_ok"]


def run_once(config: Path, work: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    """One stateless pass with clones under `work/cache`: (exit code, the JSON report)."""
    args = ["run", "--once", "--json", "--config", str(config), "--no-state",
            "--cache-dir", str(work / "cache"), *extra]  # fmt: skip
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.stdout.startswith("{"), result.output
    return result.exit_code, json.loads(result.stdout)


def pass_at(config: Path, cache: Path, now: datetime) -> dict[str, Any]:
    """One stateless pass as `run --once` makes it, at the time `now` (the pass's clock:
    soak and windows are judged by it); the repository's part of the JSON report, which
    must say exit code 0."""
    loaded = load_config(config)
    report = report_dict(
        run_pass(
            loaded,
            open_registry=registry_opener(loaded),
            forge_for=Forges(),
            options=PassOptions(cache_dir=cache),
            now=now,
        )
    )
    assert report["exit_code"] == 0, report
    (repository,) = report["repositories"]  # type: ignore[misc]
    return repository  # type: ignore[no-any-return]


def run_once_ok(config: Path, work: Path, *extra: str) -> dict[str, Any]:
    """`run_once` that must exit 0; the JSON report."""
    code, report = run_once(config, work, *extra)
    assert code == 0, report
    return report


def github_repository(
    fake_forge: FakeForge,
    registry: RunningRegistry,
    repo_name: str,
    config: Path,
    *,
    repository: str = "acme/deploy",
    extra: str = "",
) -> str:
    """A fake-forge GitHub repository whose one manifest uses `<registry>/<repo_name>/app:1.0.0`
    (tags 1.0.0 and 1.1.0 exist), and a config at `config` for it; returns the image name.

    `extra` is appended to the repository entry (indented YAML lines).
    """
    image = f"{registry.host}/{repo_name}/app"
    registry.push_tags(f"{repo_name}/app", ["1.0.0", "1.1.0"], distinct=True)
    fake_forge.create_repo(repository, {"deploy/app.yaml": f"image: {image}:1.0.0\n"})
    config.write_text(
        f"registries: [{{host: '{registry.host}', insecure: true}}]\n"
        "repositories:\n"
        f"  - url: '{fake_forge.git_url(repository)}'\n"
        f"    project: {repository}\n"
        f"    forge: {{type: github, api_url: '{fake_forge.github_api_url}',"
        f" token: '{fake_forge.bot_token}'}}\n"
        f"{extra}"
    )
    return image
