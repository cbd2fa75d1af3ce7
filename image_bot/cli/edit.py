"""`image-bot refs PATH` (the inventory) and `image-bot set IMAGE=TAG... PATH` (manual pins)."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

import click

from image_bot.cli.exit_codes import exits_on_errors
from image_bot.cli.output import refs as render
from image_bot.edit.find import find_references
from image_bot.edit.manual import set_tags
from image_bot.errors import InvalidReference
from image_bot.model import ImageName
from image_bot.reference import parse_name

__all__ = ["refs", "set_command"]


@click.command()
@click.argument("path", type=click.Path(path_type=Path, exists=True))
@click.option("--json", "as_json", is_flag=True, help="Print a JSON inventory.")
@exits_on_errors
def refs(path: Path, as_json: bool) -> None:
    """The inventory of image references under PATH (a directory or one file), then the files
    skipped and why."""
    # A big tree is parsed in one process per core (a small one stays in this process).
    result = find_references(path, workers=os.cpu_count() or 1)
    click.echo(render.refs_json(result) if as_json else render.refs_text(result))


def _parse_assignment(text: str) -> tuple[ImageName, str]:
    image, sep, tag = text.rpartition("=")
    if not sep or not image or not tag:
        raise InvalidReference(text, "expected IMAGE=TAG")
    if "@" in image or (":" in image.rsplit("/", 1)[-1]):
        raise InvalidReference(text, "IMAGE is a name without tag or digest")
    return parse_name(image), tag


@click.command("set")
@click.argument("assignments", nargs=-1, required=True, metavar="IMAGE=TAG... PATH")
@click.option("--dry-run", is_flag=True, help="Print the diff, change nothing.")
@exits_on_errors
def set_command(assignments: Sequence[str], dry_run: bool) -> None:
    """Set every reference to IMAGE (matched by normalized name) to TAG under PATH (a directory
    or one file), printing the diff. Exits 1 when an IMAGE has no reference there."""
    if len(assignments) < 2:
        raise click.UsageError("give at least one IMAGE=TAG and a PATH")
    *pairs, root_text = assignments
    root = Path(root_text)
    if not root.exists():
        raise click.UsageError(f"PATH {root_text!r} does not exist")
    wanted = dict(_parse_assignment(pair) for pair in pairs)
    result = set_tags(root, wanted, dry_run=dry_run)
    if result.diff:
        click.echo(result.diff, nl=False)
    for item in (*result.skipped, *result.refused):
        where = f"{item.path}:{item.line}" if item.line else item.path
        click.echo(f"skipped {where}: {item.reason}", err=True)
    for name in result.unmatched:
        click.echo(f"no reference to {name} under {root_text}", err=True)
    if result.refused:
        click.echo(f"error: {len(result.refused)} file(s) not rewritten, see above", err=True)
    if result.unmatched:
        click.echo(f"error: {len(result.unmatched)} image(s) not found, see above", err=True)
    if result.refused or result.unmatched:
        sys.exit(1)
