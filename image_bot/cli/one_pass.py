"""What `image-bot run --once` does once its options are read: the config, the pass's adapters,
`pipeline.run_pass`, the report. `cli/run.py` imports this when the command runs, so `run
--help` loads none of it."""

from __future__ import annotations

import dataclasses
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click

from image_bot.cli.logs import chosen_level, setup_logging
from image_bot.cli.options import RunRequest
from image_bot.cli.output.markdown import report_markdown
from image_bot.cli.output.report import report_json, report_text
from image_bot.config.load import load_config
from image_bot.pipeline import Progress, run_pass
from image_bot.pipeline.shards import parse_shard
from image_bot.wiring.forges import Forges
from image_bot.wiring.passes import (
    open_state,
    pass_options,
    registry_opener,
    shared_write_spacing,
    state_location,
    with_leases,
)

__all__ = ["one_pass"]

log = logging.getLogger("image_bot.cli.run")  # the command's logger, as before the split


@contextmanager
def _progress(enabled: bool) -> Iterator[Progress | None]:
    if not enabled:
        yield None
        return
    from rich.console import Console  # noqa: PLC0415  (only interactive terminals need rich)

    with Console(stderr=True).status("starting") as status:
        yield lambda text: status.update(text)  # noqa: PLW0108  (status.update takes more)


def one_pass(request: RunRequest) -> None:
    """One pass over the repositories of the config at `request.config_path`; prints the
    report in `request.report_format` and exits with the report's exit code."""
    options = pass_options(
        cache_dir=request.cache_dir,
        dry_run=request.dry_run,
        tag_cache_ttl=request.tag_cache_ttl,
        digest_ttl=request.digest_ttl,
        concurrency=request.concurrency,
    )
    chosen = parse_shard(request.shard) if request.shard else None
    # The text report already tells each branch's story; text logs add only the trouble.
    log_format, report_format = request.log_format, request.report_format
    default_level = logging.INFO if log_format == "json" else logging.WARNING
    setup_logging(log_format, level=chosen_level(request.log_level, default_level))
    config = load_config(request.config_path)
    if chosen is not None:
        config = chosen.of(config)
        log.info(
            "shard %d/%d: %d repositories",
            chosen.index,
            chosen.count,
            len(config.repositories),
            extra={"shard": f"{chosen.index}/{chosen.count}"},
        )
    location = state_location(config, state_dir=request.state_dir, no_state=request.no_state)
    interactive = sys.stderr.isatty() and log_format == "text" and report_format == "text"
    warnings: list[str] = []
    with (
        open_state(location, read_only=request.dry_run) as state,
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
