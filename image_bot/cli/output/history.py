"""Text and JSON renderings of `image-bot history` (entries) and `image-bot envs` (the matrix)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from image_bot.cli.output.envelope import versioned_json, versioned_rows
from image_bot.history.entries import Entry
from image_bot.model import ImageName, StageVersion
from image_bot.promote.gates import short_duration
from image_bot.promote.offers import version_text

__all__ = ["envs_images", "envs_json", "envs_text", "history_json", "history_text", "rfc3339"]


def rfc3339(moment: datetime | None) -> str | None:
    """`2026-12-03T10:00:00Z` (UTC), or None."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _day(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if moment else "now"


def history_json(entries: Sequence[Entry], *, by_file: bool) -> str:
    """`{"kind": "history", "schema_version", "entries": [...]}`; keyed by file (`"stage": null`
    and a `"file"`) without stages."""
    rows: list[dict[str, object]] = []
    for entry in entries:
        row: dict[str, object] = {
            "stage": entry.stage,
            "image": str(entry.image),
            "tag": entry.tag,
            "digest": entry.digest,
            "since": rfc3339(entry.since),
            "until": rfc3339(entry.until),
            "commit": entry.commit.sha,
            "author": entry.commit.author,
            "pull_request": entry.commit.pull_request,
            "promoted_from": entry.promoted_from,
        }
        if by_file:
            row["file"] = entry.file
        rows.append(row)
    return versioned_rows("history", "entries", rows)


def history_text(entries: Sequence[Entry]) -> str:
    """One line per entry: place, image, version, since -> until, commit, pull request, author."""
    lines = []
    for e in entries:
        via = f" {e.commit.pull_request}" if e.commit.pull_request else ""
        came = f" (from {e.promoted_from})" if e.promoted_from else ""
        lines.append(
            f"{e.place}\t{e.image}\t{version_text(e.version)}\t{_day(e.since)} -> {_day(e.until)}"
            f"\t{e.commit.sha[:12]}{via}\t{e.commit.author}{came}"
        )
    lines.append(f"{len(entries)} entries")
    return "\n".join(lines)


def _images(cells: Sequence[StageVersion]) -> list[ImageName]:
    return sorted({cell.image for cell in cells})


def envs_json(order: Sequence[str], cells: Sequence[StageVersion]) -> str:
    """`{"kind": "envs", "schema_version", "stages": [...], "images": [{"image", "stages":
    {...}, "behind": {...}}]}`."""
    return versioned_json("envs", {"stages": list(order), "images": envs_images(order, cells)})


def envs_images(order: Sequence[str], cells: Sequence[StageVersion]) -> list[dict[str, object]]:
    """The `images` of `envs --json`: per image, each stage's version and how far behind."""
    images: list[dict[str, object]] = []
    rank = {stage: index for index, stage in enumerate(order)}
    for image in _images(cells):
        mine = sorted(
            (cell for cell in cells if cell.image == image),
            key=lambda cell: (rank.get(cell.stage, len(rank)), cell.stage),
        )
        images.append(
            {
                "image": str(image),
                "stages": {
                    cell.stage: {
                        "tag": cell.tag,
                        "digest": cell.digest,
                        "since": rfc3339(cell.since),
                    }
                    for cell in mine
                },
                "behind": {
                    cell.stage: {
                        "versions": cell.behind_versions,
                        "since": rfc3339(cell.behind_since),
                    }
                    for cell in mine
                    if cell.behind_versions is not None
                },
            }
        )
    return images


def _age(since: datetime, now: datetime) -> str:
    return short_duration(now - since)


def envs_text(order: Sequence[str], cells: Sequence[StageVersion], *, now: datetime) -> str:
    """A table: one row per image, one column per stage: `1.2.0 (3d)`, `1.1.0 (5d, 2 behind)`."""
    header = ["image", *order]
    rows = [header]
    for image in _images(cells):
        row = [str(image)]
        for stage in order:
            cell = next((c for c in cells if c.image == image and c.stage == stage), None)
            if cell is None:
                row.append("-")
                continue
            notes = [_age(cell.since, now)]
            if cell.behind_versions:
                notes.append(f"{cell.behind_versions} behind")
            row.append(f"{version_text((cell.tag, cell.digest))} ({', '.join(notes)})")
        rows.append(row)
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return "\n".join(
        "  ".join(text.ljust(width) for text, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )
