"""Text and JSON renderings of command results (tags decisions, reference inventories)."""

from __future__ import annotations

import json
import re

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from image_bot.edit.find import FindResult
from image_bot.errors import ConfigError
from image_bot.model import Decision, TagList

__all__ = ["format_yaml_path", "load_yaml", "refs_json", "refs_text", "tags_json", "tags_text"]

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


def load_yaml(text: str, *, source: str) -> object:
    """Parse one YAML document; errors become ConfigError naming `source` and the line."""
    try:
        return YAML(typ="safe", pure=True).load(text)
    except MarkedYAMLError as error:
        line = error.problem_mark.line + 1 if error.problem_mark else None
        raise ConfigError(f"invalid YAML: {error.problem}", file=source, line=line) from None
    except YAMLError as error:
        raise ConfigError(f"invalid YAML: {error}", file=source) from None


def format_yaml_path(path: tuple[str | int, ...]) -> str:
    """`('spec', 'containers', 0, 'image')` -> `spec.containers[0].image`."""
    out = ""
    for part in path:
        if part == "|":  # into the YAML held by a block scalar: `spec.values|image.tag`
            out += "|"
        elif isinstance(part, int):
            out += f"[{part}]"
        elif _IDENTIFIER.fullmatch(part):
            out += f".{part}" if out and not out.endswith("|") else part
        else:
            out += f"[{json.dumps(part)}]"
    return out


def _tag_rows(taglist: TagList, decision: Decision) -> list[tuple[str, str]]:
    rejected = dict(decision.rejected)
    selected = decision.target.tag if decision.target else None
    rows = []
    for tag in taglist.tags:
        if tag == selected:
            status = "selected"
        elif tag == decision.current.tag:
            status = "current"
        else:
            status = f"rejected: {rejected[tag]}" if tag in rejected else "candidate"
        rows.append((tag, status))
    return rows


def tags_text(taglist: TagList, decision: Decision) -> str:
    """Every tag with its verdict, the reason, and the selected tag (or `none`) last."""
    rows = _tag_rows(taglist, decision)
    width = max((len(tag) for tag, _ in rows), default=0)
    lines = [f"{taglist.image}: {len(rows)} tags"]
    lines += [f"{'*' if s == 'selected' else ' '} {t:<{width}}  {s}" for t, s in rows]
    lines.append(f"reason: {decision.reason}")
    target = decision.target
    if target is not None and target.digest and target.digest != decision.current.digest:
        lines.append(f"digest: {target.digest}")
    lines.append(target.tag if target is not None and target.tag else "none")
    return "\n".join(lines)


def tags_json(taglist: TagList, decision: Decision) -> str:
    """The same as `tags_text`, as a JSON object."""
    target = decision.target
    return json.dumps(
        {
            "image": str(taglist.image),
            "current": decision.current.tag,
            "selected": target.tag if target else None,
            "target": str(target) if target else None,
            "changes": decision.changes,
            "reason": decision.reason,
            "tags": [
                {"tag": tag, "status": status.split(":", 1)[0], "detail": status.partition(": ")[2]}
                for tag, status in _tag_rows(taglist, decision)
            ],
        },
        indent=2,
    )


def refs_text(result: FindResult) -> str:
    """One line per reference (file:line kind image tag digest), then skipped files."""
    lines = []
    for occ in result.occurrences:
        ref = occ.ref
        lines.append(
            f"{occ.path}:{occ.line}\t{occ.kind}\t{ref.name}\t{ref.tag or '-'}\t{ref.digest or '-'}"
        )
    lines.append(f"{len(result.occurrences)} references")
    if result.skipped:
        lines.append(f"skipped {len(result.skipped)}:")
        for item in result.skipped:
            where = f"{item.path}:{item.line}" if item.line else item.path
            lines.append(f"  {where}\t{item.reason}")
    return "\n".join(lines)


def refs_json(result: FindResult) -> str:
    """The inventory as `{"refs": [...], "skipped": [...]}`."""
    return json.dumps(
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
        },
        indent=2,
    )
