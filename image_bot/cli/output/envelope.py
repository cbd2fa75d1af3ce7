"""What every `--json` output starts with: which document it is and its schema version.

`schema_version` grows by one whenever a field is removed, renamed or changes meaning;
adding a field does not change it (readers ignore keys they do not know).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

__all__ = ["JSON_SCHEMA_VERSION", "versioned_json", "versioned_rows"]

JSON_SCHEMA_VERSION = 1


def versioned_json(kind: str, payload: Mapping[str, object]) -> str:
    """`payload` as indented JSON, led by `"kind": kind` and `"schema_version"`."""
    return json.dumps({"kind": kind, "schema_version": JSON_SCHEMA_VERSION, **payload}, indent=2)


def versioned_rows(kind: str, key: str, rows: Sequence[Mapping[str, object]]) -> str:
    """`{"kind", "schema_version", key: rows}` with one compact row per line: thousands of
    rows encode fast (the C encoder) and still read well."""
    head = json.dumps({"kind": kind, "schema_version": JSON_SCHEMA_VERSION})[:-1]
    if not rows:
        return f"{head}, {json.dumps(key)}: []}}"
    lines = ",\n".join(json.dumps(row) for row in rows)
    return f"{head}, {json.dumps(key)}: [\n{lines}\n]}}"
