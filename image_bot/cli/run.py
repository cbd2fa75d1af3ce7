"""`image-bot run --once`: one pass over every configured repository, for cron and CI.

With `--shard I/N` only the repositories of shard I pass (`pipeline.shards`): N jobs, e.g. a
Kubernetes Indexed Job, share the work, and with `state.url` their state. Every pass with
state holds each repository's lease while it works on it, so overlapping jobs never pass one
repository at once.

Exit codes: 0 done, 1 something failed (the rest was still done), 2 bad config or usage.
"""

from __future__ import annotations

import dataclasses
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

import click

from image_bot.cli.exit_codes import exits_on_errors
from image_bot.cli.logs import chosen_level, setup_logging
from image_bot.cli.output.markdown import report_markdown
from image_bot.cli.output.report import report_json, report_text
from image_bot.config.load import load_config
from image_bot.pipeline import Progress, run_pass
from image_bot.pipeline.shards import parse_shard
from image_bot.wiring.forges import Forges
from image_bot.wiring.passes import (
    open_state,
    pass_options,
    pass_settings,
    registry_opener,
    shared_write_spacing,
    state_location,
    with_leases,
)

__all__ = ["run"]

log = logging.getLogger(__name__)


@contextmanager
def _progress(enabled: bool) -> Iterator[Progress | None]:
    if not enabled:
        yield None
        return
    from rich.console import Console  # noqa: PLC0415  (only interactive terminals need rich)

    with Console(stderr=True).status("starting") as status:
        yield lambda text: status.update(text)  # noqa: PLW0108  (status.update takes more)


@click.command("run")
@click.option("--once", is_flag=True, help="Run one pass and exit (`serve` runs a service).")
@click.option("--dry-run", is_flag=True, help="Print the plan and the diff; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable report.")
@click.option(
    "--report",
    "report_format",
    type=click.Choice(["text", "json", "markdown"]),
    default=None,
    help="How to print the report: text (default), json (= --json), or markdown for a CI "
    "job summary ($GITHUB_STEP_SUMMARY, a merge-request note).",
)
@click.option(
    "--shard",
    metavar="I/N",
    envvar="IMAGE_BOT_SHARD",
    help="Pass only shard I of N of the repositories (by a stable hash); `N` alone takes I"
    " from JOB_COMPLETION_INDEX (a Kubernetes Indexed Job).",
)
@pass_settings("The config file.")
@exits_on_errors
def run(
    *,
    once: bool,
    config_path: Path,
    dry_run: bool,
    as_json: bool,
    report_format: Literal["text", "json", "markdown"] | None,
    state_dir: Path | None,
    no_state: bool,
    cache_dir: Path | None,
    tag_cache_ttl: str,
    digest_ttl: str,
    concurrency: int,
    shard: str | None,
    log_format: Literal["text", "json"],
    log_level: str | None,
) -> None:
    """Scan registries, decide, edit each repository and push the bot's branches, once."""
    if not once:
        raise click.UsageError("run needs --once (for a long-running service use `serve`)")
    if as_json and report_format not in (None, "json"):
        raise click.UsageError(f"--json and --report {report_format} ask for two reports")
    report_format = "json" if as_json else report_format or "text"
    options = pass_options(
        cache_dir=cache_dir,
        dry_run=dry_run,
        tag_cache_ttl=tag_cache_ttl,
        digest_ttl=digest_ttl,
        concurrency=concurrency,
    )
    chosen = parse_shard(shard) if shard else None
    # The text report already tells each branch's story; text logs add only the trouble.
    default_level = logging.INFO if log_format == "json" else logging.WARNING
    setup_logging(log_format, level=chosen_level(log_level, default_level))
    config = load_config(config_path)
    if chosen is not None:
        config = chosen.of(config)
        log.info(
            "shard %d/%d: %d repositories",
            chosen.index,
            chosen.count,
            len(config.repositories),
            extra={"shard": f"{chosen.index}/{chosen.count}"},
        )
    location = state_location(config, state_dir=state_dir, no_state=no_state)
    interactive = sys.stderr.isatty() and log_format == "text" and report_format == "text"
    warnings: list[str] = []
    with (
        open_state(location, read_only=dry_run) as state,
        shared_write_spacing(location) as spacing,
        _progress(interactive) as progress,
    ):
        report = run_pass(
            config,
            open_registry=registry_opener(config, warnings=warnings),
            forge_for=Forges(spacing),
            options=with_leases(options, config),
            state=state,
            progress=progress,
        )
    report = dataclasses.replace(report, warnings=(*report.warnings, *warnings))
    render = {"text": report_text, "json": report_json, "markdown": report_markdown}
    click.echo(render[report_format](report), nl=report_format != "markdown")
    sys.exit(report.exit_code)
