"""`image-bot run --once`: one pass over every configured repository, for cron and CI.

With `--shard I/N` only the repositories of shard I pass (`pipeline.shards`): N jobs, e.g. a
Kubernetes Indexed Job, share the work, and with `state.url` their state. Every pass with
state holds each repository's lease while it works on it, so overlapping jobs never pass one
repository at once.

The pass itself is `cli/one_pass.py`, imported when the command runs: `run --help` loads no
config models, registry client or pipeline.

Exit codes: 0 done, 1 something failed (the rest was still done), 2 bad config or usage.
"""

from __future__ import annotations

from typing import Any, Literal

import click

from image_bot.cli import started
from image_bot.cli.exit_codes import exits_on_errors
from image_bot.cli.options import RunRequest, pass_settings

__all__ = ["run"]


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
    as_json: bool,
    report_format: Literal["text", "json", "markdown"] | None,
    **settings: Any,
) -> None:
    """Scan registries, decide, edit each repository and push the bot's branches, once."""
    if not once:
        raise click.UsageError("run needs --once (for a long-running service use `serve`)")
    if as_json and report_format not in (None, "json"):
        raise click.UsageError(f"--json and --report {report_format} ask for two reports")
    request = RunRequest(report_format="json" if as_json else report_format or "text", **settings)
    from image_bot.cli.one_pass import one_pass  # noqa: PLC0415  (see the module's docstring)

    started()  # the pass's modules are loaded: start-up ends here
    one_pass(request)
