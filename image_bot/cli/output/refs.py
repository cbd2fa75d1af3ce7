"""Text and JSON renderings of the `refs` inventory (and the YAML paths in it)."""

from __future__ import annotations

from image_bot.cli.output.envelope import versioned_json
from image_bot.edit.find import FindResult
from image_bot.yaml_path import format_yaml_path

__all__ = ["refs_json", "refs_text"]


def refs_text(result: FindResult) -> str:
    """One line per reference (file:line:column kind image tag digest; the place is that of the
    scalar an update changes), then managed, then skipped.
    """
    lines = []
    for occ in result.occurrences:
        ref = occ.ref
        where = f"{occ.path}:{occ.line}:{occ.column}"
        lines.append(f"{where}\t{occ.kind}\t{ref.name}\t{ref.tag or '-'}\t{ref.digest or '-'}")
    lines.append(f"{len(result.occurrences)} references")
    if result.managed:
        lines.append(f"managed {len(result.managed)}:")
        for managed in result.managed:
            occ = managed.occurrence
            lines.append(f"  {occ.path}:{occ.line}\t{occ.ref.text}\t{managed.reason}")
    if result.skipped:
        lines.append(f"skipped {len(result.skipped)}:")
        for item in result.skipped:
            where = f"{item.path}:{item.line}" if item.line else item.path
            lines.append(f"  {where}\t{item.reason}")
    return "\n".join(lines)


def refs_json(result: FindResult) -> str:
    """The inventory as `{"refs": [...], "skipped": [...], "managed": [...]}`.

    `managed` lists container images a kustomization `images:` entry sets (`managed_by`).
    """
    return versioned_json(
        "refs",
        {
            "refs": [
                {
                    "file": occ.path,
                    "line": occ.line,
                    "column": occ.column,
                    "yaml_path": format_yaml_path(occ.yaml_path),
                    "kind": str(occ.kind),
                    "image": str(occ.ref.name),
                    "text": occ.ref.text,
                    "tag": occ.ref.tag,
                    "digest": occ.ref.digest,
                    "policy": occ.policy,
                }
                for occ in result.occurrences
            ],
            "skipped": [
                {"file": item.path, "line": item.line, "reason": item.reason}
                for item in result.skipped
            ],
            "managed": [
                {
                    "file": item.occurrence.path,
                    "line": item.occurrence.line,
                    "column": item.occurrence.column,
                    "yaml_path": format_yaml_path(item.occurrence.yaml_path),
                    "text": item.occurrence.ref.text,
                    "managed_by": item.by.where,
                    "reason": item.reason,
                }
                for item in result.managed
            ],
        },
    )
