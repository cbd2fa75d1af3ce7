"""`image-bot import flux|argocd PATH`: write an image-bot config from another tool's objects.

The config goes to stdout (or `--output`); what could not be carried over is listed atop it
and on stderr. The generated config is checked as `check-config --allow-missing-secrets`
would before it is written.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import click

from image_bot.cli.exit_codes import exits_on_errors
from image_bot.config.load import parse_config
from image_bot.errors import ConfigError, ImageBotError
from image_bot.migrate.objects import KubeObject, read_objects
from image_bot.migrate.render import render_config
from image_bot.migrate.result import Migration

__all__ = ["import_group"]

Importer = Callable[[Sequence[KubeObject]], Migration]


@click.group("import")
def import_group() -> None:
    """Write an image-bot config from Flux or Argo CD Image Updater settings."""


def _output_option(command: Callable[..., None]) -> Callable[..., None]:
    command = click.option("--force", is_flag=True, help="Overwrite --output when it exists.")(
        command
    )
    return click.option(
        "-o",
        "--output",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Write the config to this file [default: stdout].",
    )(command)


def _run(
    tool: str, path: Path, output: Path | None, *, force: bool, importer: Importer, what: str
) -> None:
    objects, unreadable = read_objects(path)
    migration = importer(objects)
    if not (migration.policies or migration.repositories or migration.registries):
        raise ConfigError(f"no {what} found", file=str(path))
    migration.notes[:0] = unreadable
    if tool == "flux" and path.is_dir():
        _check_markers(path, migration)
    text = render_config(migration, f"image-bot import {tool} {path}")
    try:
        parse_config(text, source="(generated)", base_dir=Path.cwd(), require_env=False)
    except ConfigError as error:  # a bug of the importer: say so rather than write it
        raise ImageBotError(f"the generated config does not validate: {error}") from None
    if output is None:
        click.echo(text, nl=False)
    else:
        if output.exists() and not force:
            raise ConfigError(f"{output} exists (use --force to overwrite it)", field="--output")
        output.write_text(text, encoding="utf-8")
    for note in migration.notes:
        click.echo(f"note: {note}", err=True)
    summary = (
        f"imported {len(migration.policies)} policies, {len(migration.registries)} registries,"
        f" {len(migration.images)} image rules, {len(migration.repositories)} repositories"
        f" from {tool}; {len(migration.notes)} notes"
    )
    click.echo(summary + (f" (written to {output})" if output else ""), err=True)


def _check_markers(path: Path, migration: Migration) -> None:
    from image_bot.edit.find import find_references  # noqa: PLC0415  (only flux reads markers)
    from image_bot.migrate.flux import marker_notes  # noqa: PLC0415

    found = find_references(path)
    for problem in marker_notes(found.occurrences, migration):
        where, _, why = problem.partition(": ")
        migration.note(where, why)


@import_group.command("flux")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@_output_option
@exits_on_errors
def flux(*, path: Path, output: Path | None, force: bool) -> None:
    """Read Flux ImageRepository, ImagePolicy and ImageUpdateAutomation objects (and the
    GitRepository they name) from PATH, a manifest or a directory of them.

    Each ImagePolicy becomes the policy its `$imagepolicy` markers already name
    (`namespace:name`), so the manifests need no change.
    """
    from image_bot.migrate.flux import from_flux  # noqa: PLC0415

    _run("flux", path, output, force=force, importer=from_flux, what="Flux image automation object")


@import_group.command("argocd")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@_output_option
@exits_on_errors
def argocd(*, path: Path, output: Path | None, force: bool) -> None:
    """Read Argo CD Applications with Argo CD Image Updater annotations
    (`argocd-image-updater.argoproj.io/...`) from PATH, a manifest or a directory of them."""
    from image_bot.migrate.argocd import from_argocd  # noqa: PLC0415

    _run(
        "argocd",
        path,
        output,
        force=force,
        importer=from_argocd,
        what="Application with an argocd-image-updater.argoproj.io/image-list annotation",
    )
