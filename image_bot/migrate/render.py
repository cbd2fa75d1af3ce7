"""A Migration as the config file a user reads: a header listing what was not carried over,
the sections, and a comment above each entry saying where it came from.

This writes a new file (nothing to keep byte for byte), so ruamel's emitter is used.
"""

from __future__ import annotations

import io
from collections.abc import Mapping

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from image_bot.migrate.result import Key, Migration

__all__ = ["render_config"]

_SCHEMA = "https://raw.githubusercontent.com/image-bot/image-bot/main/schema/config.schema.json"
_WIDTH = 100


def _plain(value: object) -> object:
    if isinstance(value, Mapping):
        out = CommentedMap()
        for key, item in value.items():
            out[key] = _plain(item)
        return out
    if isinstance(value, list | tuple):
        return CommentedSeq(_plain(item) for item in value)
    return value


def _wrapped(text: str, indent: str) -> list[str]:
    """`text` in lines of at most `_WIDTH` characters (after `indent` and `# `)."""
    lines, current = [], ""
    for word in text.split():
        if current and len(indent) + 2 + len(current) + 1 + len(word) > _WIDTH:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    return [*lines, current] if current else lines


def _header(migration: Migration, command: str) -> str:
    lines = [
        f"image-bot configuration imported from {migration.tool} by `{command}`.",
        "Check it: image-bot check-config --allow-missing-secrets FILE; then set the ${...}"
        " variables it names.",
        "",
    ]
    if migration.notes:
        lines.append(f"Not carried over from {migration.tool}, or carried over differently:")
        for note in migration.notes:
            first, *rest = _wrapped(str(note), "#   - ")
            lines += [f"  - {first}", *(f"    {line}" for line in rest)]
    else:
        lines.append(f"Everything read from {migration.tool} is carried over.")
    lines += ["", f"yaml-language-server: $schema={_SCHEMA}"]
    return "\n".join(lines)


def _entry_index(migration: Migration, key: Key) -> str | int:
    section, name = key
    if section == "registries" and isinstance(name, str):
        return list(migration.registries).index(name)
    return name


def render_config(migration: Migration, command: str) -> str:
    """The config file text: header, sections, per-entry comments (wrapped to 100 columns)."""
    root = _plain(migration.config())
    assert isinstance(root, CommentedMap)  # noqa: S101  (a mapping stays a mapping)
    root.yaml_set_start_comment(_header(migration, command))
    for key, texts in migration.comments.items():
        section = root.get(key[0])
        if not isinstance(section, CommentedMap | CommentedSeq):
            continue
        lines = [line for text in texts for line in _wrapped(text, "  ")]
        section.yaml_set_comment_before_after_key(
            _entry_index(migration, key), before="\n".join(lines), indent=2
        )
    for name in list(root)[1:]:
        root.yaml_set_comment_before_after_key(name, before="\n")
    yaml = YAML(typ="rt", pure=True)
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = _WIDTH
    out = io.StringIO()
    yaml.dump(root, out)
    return out.getvalue()
