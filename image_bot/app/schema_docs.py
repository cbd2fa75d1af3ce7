"""The config file's JSON Schema (for editors) and the option reference rendered from it."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping

from image_bot.spec import Config

__all__ = ["config_schema", "config_schema_text", "reference_markdown"]

SCHEMA_ID = "https://github.com/image-bot/image-bot/schema/config.schema.json"
JsonObject = Mapping[str, object]


def config_schema() -> dict[str, object]:
    """The JSON Schema (2020-12) of the config file, as pydantic validates it."""
    schema = Config.model_json_schema(mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **schema,
        "title": "image-bot configuration",
    }


def config_schema_text() -> str:
    """`config_schema()` as the committed `schema/config.schema.json` holds it."""
    return json.dumps(config_schema(), indent=2, ensure_ascii=False) + "\n"


def _object(value: object) -> JsonObject:
    return value if isinstance(value, Mapping) else {}


def _ref_name(schema: JsonObject) -> str | None:
    ref = schema.get("$ref")
    return ref.rsplit("/", 1)[1] if isinstance(ref, str) else None


def _variants(schema: JsonObject) -> list[JsonObject]:
    for key in ("anyOf", "oneOf"):
        options = schema.get(key)
        if isinstance(options, list):
            return [_object(option) for option in options]
    return [schema]


def _type_text(schema: JsonObject) -> str:
    """A short human type: `string`, `integer ≥ 1`, `'asc' \\| 'desc'`, `list of Group`."""
    parts = []
    for variant in _variants(schema):
        name = _ref_name(variant)
        if "anyOf" in variant or "oneOf" in variant:
            parts.append(_type_text(variant))
        elif name is not None:
            parts.append(f"[{name}](#{name.lower()})")
        elif "enum" in variant:
            values = variant["enum"]
            if isinstance(values, list):
                parts.extend(f"`{value}`" for value in values)
        elif variant.get("type") == "array":
            parts.append(f"list of {_type_text(_object(variant.get('items')))}")
        elif variant.get("type") == "object" and "additionalProperties" in variant:
            parts.append(f"map of name → {_type_text(_object(variant['additionalProperties']))}")
        elif variant.get("format") == "password":
            parts.append("secret")
        elif variant.get("type") == "null":
            continue
        elif "type" in variant:
            text = str(variant["type"])
            if "minimum" in variant:
                text += f" ≥ {variant['minimum']}"
            parts.append(text)
    return " \\| ".join(parts) or "any"


def _default_text(schema: JsonObject, *, required: bool) -> str:
    if "default" not in schema:
        return "required" if required else "—"
    default = schema["default"]
    if default is None or default in ((), [], {}):
        return "—"
    if isinstance(default, Mapping):
        return "see section"
    return f"`{json.dumps(default, ensure_ascii=False)}`"


def _models(schema: JsonObject) -> Iterator[tuple[str, JsonObject]]:
    """Config first, then every model in the order the config first mentions it."""
    definitions = _object(schema.get("$defs"))
    seen: list[str] = []

    def visit(name: str, model: JsonObject) -> Iterator[tuple[str, JsonObject]]:
        seen.append(name)
        yield name, model
        text = json.dumps(model.get("properties"))
        for other in sorted(definitions, key=text.find):
            if f'"#/$defs/{other}"' in text and other not in seen:
                yield from visit(other, _object(definitions[other]))

    yield from visit("Config", schema)


def reference_markdown() -> str:
    """One section per model with a row per option: key, type, default, description."""
    lines: list[str] = []
    for name, model in _models(config_schema()):
        description = str(model.get("description", "")) if name != "Config" else ""
        lines += [f"### {name}", ""]
        if description:
            lines += [" ".join(description.split()), ""]
        lines += ["| key | type | default | description |", "|---|---|---|---|"]
        required = model.get("required")
        for key, raw in _object(model.get("properties")).items():
            option = _object(raw)
            default = _default_text(option, required=isinstance(required, list) and key in required)
            text = " ".join(str(option.get("description", "")).split()).replace("|", "\\|")
            row = f"| `{key}` | {_type_text(option)} | {default} | {text} |"
            lines.append(row)
        lines.append("")
    return "\n".join(lines)
