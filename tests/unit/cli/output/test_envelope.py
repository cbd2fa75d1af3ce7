"""The versioned JSON envelope: `kind` and `schema_version` lead, rows stay one per line."""

from __future__ import annotations

import json

from image_bot.cli.output.envelope import JSON_SCHEMA_VERSION, versioned_json, versioned_rows


def test_rows_are_one_compact_json_value_per_line_under_the_envelope() -> None:
    rows = [{"tag": "1.0", "until": None}, {"tag": "1.1\n", "until": "2026-12-03T10:00:00Z"}]
    text = versioned_rows("history", "entries", rows)
    assert json.loads(text) == {
        "kind": "history",
        "schema_version": JSON_SCHEMA_VERSION,
        "entries": rows,
    }
    assert text.splitlines()[1:3] == [
        json.dumps(row) + "," * (i == 0) for i, row in enumerate(rows)
    ]
    assert list(json.loads(text)) == ["kind", "schema_version", "entries"]


def test_no_rows_is_an_empty_list_and_both_forms_lead_alike() -> None:
    empty = json.loads(versioned_rows("history", "entries", []))
    assert empty == {"kind": "history", "schema_version": JSON_SCHEMA_VERSION, "entries": []}
    whole = json.loads(versioned_json("envs", {"stages": [], "images": []}))
    assert list(whole)[:2] == ["kind", "schema_version"]
