"""`image-bot rollback STAGE IMAGE [--to VERSION]`: a pull request putting STAGE back on the
version of IMAGE it ran before (or on VERSION: a tag, `tag@digest` or a digest prefix it ran),
exact tag and digest from the repository's history.

Exit codes: 0 done, 1 something failed, 2 bad config or nothing to roll back to.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from image_bot.cli.exit_codes import exits_on_errors
from image_bot.cli.history import select_repository
from image_bot.cli.options import config_option
from image_bot.cli.output.report import report_json, report_text
from image_bot.config.load import load_config
from image_bot.pipeline import PassOptions
from image_bot.pipeline.decisions import Decided
from image_bot.pipeline.repository import Context
from image_bot.pipeline.rollback import RollbackRequest, rollback
from image_bot.publish.git import Git
from image_bot.report import RunReport
from image_bot.wiring.forges import Forges
from image_bot.wiring.passes import default_cache_dir

__all__ = ["rollback_command"]


@click.command("rollback")
@click.argument("stage")
@click.argument("image")
@click.option(
    "--to", "to", metavar="VERSION", help="Roll back to this version (default: the previous one)."
)
@config_option("The config file.")
@click.option("--repository", help="Which repository of the config (URL or project).")
@click.option("--dry-run", is_flag=True, help="Print the pull request and the diff; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable report.")
@click.option(
    "--cache-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Keep clones here [default: $XDG_CACHE_HOME/image-bot/clones].",
)
@exits_on_errors
def rollback_command(
    *,
    stage: str,
    image: str,
    to: str | None,
    config_path: Path,
    repository: str | None,
    dry_run: bool,
    as_json: bool,
    cache_dir: Path | None,
) -> None:
    """Open a pull request rolling STAGE back to an earlier version of IMAGE (a glob)."""
    config = load_config(config_path)
    repo = select_repository(config_path, repository, Path(), config=config)
    options = PassOptions(cache_dir=cache_dir or default_cache_dir(), dry_run=dry_run)
    context = Context(config, Decided(), Forges(), Git, options, datetime.now(UTC))
    done = rollback(context, repo, RollbackRequest(stage, image, to))
    report = RunReport(repositories=(done,), dry_run=dry_run)
    click.echo(report_json(report) if as_json else report_text(report))
    sys.exit(report.exit_code)
