"""The config file's JSON Schema (for editors) and the option reference rendered from it.

Any value may be written `${VAR}` (interpolated before validation), so the schema for
editors also accepts such a string wherever the type is not already any text: numbers,
booleans, choices and patterned strings (`port: ${PORT}`, `host: ${REGISTRY}`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping

from image_bot.config import Config
from image_bot.config.docstrings import add_field_docstrings

__all__ = ["config_schema", "config_schema_text", "reference_markdown", "with_reference"]

SCHEMA_ID = "https://github.com/image-bot/image-bot/schema/config.schema.json"
JsonObject = Mapping[str, object]


INTERPOLATED = "Interpolated"
_INTERPOLATED_REF = f"#/$defs/{INTERPOLATED}"
_INTERPOLATED_SCHEMA: dict[str, object] = {
    "type": "string",
    "pattern": r"\$\{[^}]+\}",
    "description": "A value taken from the environment or a file when the config is read:"
    " `${VAR}`, `${VAR:-default}`, `${file:/path}`.",
}
# keywords that say what a value must be (moved into the typed branch); the rest (title,
# description, default, examples...) stays on the property
_TYPE_KEYWORDS = frozenset(
    {
        "type", "enum", "const", "pattern", "format", "minimum", "maximum", "exclusiveMinimum",
        "exclusiveMaximum", "multipleOf", "minLength", "maxLength",
    }
)  # fmt: skip
_NESTED = ("properties", "$defs", "patternProperties")


def _model_schema() -> dict[str, object]:
    schema = Config.model_json_schema(mode="validation")
    add_field_docstrings(schema, Config)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **schema,
        "title": "image-bot configuration",
    }


def _typed(schema: Mapping[str, object]) -> bool:
    """A value that `${VAR}` (a string) would not satisfy as it stands."""
    kind = schema.get("type")
    if kind in ("integer", "number", "boolean"):
        return True
    if "enum" in schema or "const" in schema:
        return True
    return kind == "string" and "pattern" in schema


def _flat_variants(options: list[object]) -> Iterator[Mapping[str, object]]:
    for option in options:
        if isinstance(option, Mapping):
            nested = option.get("anyOf") or option.get("oneOf")
            if isinstance(nested, list):
                yield from _flat_variants(nested)
            else:
                yield option


def _plain_string(schema: Mapping[str, object]) -> bool:
    return schema.get("type") == "string" and not _typed(schema)


def _accept_interpolation(node: object, *, wrap: bool = True) -> object:
    """`node` with `${VAR}` allowed wherever a typed value is (recursively). The variants of
    an `anyOf` are not wrapped one by one: the `anyOf` gains one `${VAR}` variant."""
    if isinstance(node, list):
        return [_accept_interpolation(item, wrap=wrap) for item in node]
    if not isinstance(node, Mapping):
        return node
    out: dict[str, object] = {}
    for key, value in node.items():
        if key in _NESTED and isinstance(value, Mapping):
            out[key] = {name: _accept_interpolation(item) for name, item in value.items()}
        elif key in ("anyOf", "oneOf"):
            out[key] = _accept_interpolation(value, wrap=False)
        elif key in ("items", "additionalProperties", "allOf", "prefixItems"):
            out[key] = _accept_interpolation(value)
        else:
            out[key] = value
    for key in ("anyOf", "oneOf"):
        options = out.get(key)
        if isinstance(options, list):
            variants = list(_flat_variants(options))
            needs = any(_typed(v) for v in variants) and not any(_plain_string(v) for v in variants)
            if needs:
                out[key] = [*options, {"$ref": _INTERPOLATED_REF}]
            return out
    if wrap and _typed(out):
        typed = {key: value for key, value in out.items() if key in _TYPE_KEYWORDS}
        rest = {key: value for key, value in out.items() if key not in _TYPE_KEYWORDS}
        return {**rest, "anyOf": [typed, {"$ref": _INTERPOLATED_REF}]}
    return out


def config_schema() -> dict[str, object]:
    """The JSON Schema (2020-12) of the config file, as pydantic validates it after
    interpolation, plus `${VAR}` wherever a typed value is expected (for editors)."""
    schema = _accept_interpolation(_model_schema())
    assert isinstance(schema, dict)  # noqa: S101  (a mapping stays a mapping)
    definitions = schema.setdefault("$defs", {})
    if isinstance(definitions, dict):
        definitions[INTERPOLATED] = _INTERPOLATED_SCHEMA
    return schema


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
    for name, model in _models(_model_schema()):
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


REFERENCE_BEGIN = "<!-- BEGIN reference: generated by scripts/update-config-docs; do not edit -->"
REFERENCE_END = "<!-- END reference -->"


def with_reference(document: str) -> str:
    """`document` with the text between the reference markers replaced by the current one."""
    head, begin, rest = document.partition(REFERENCE_BEGIN)
    _, end, tail = rest.partition(REFERENCE_END)
    if not (begin and end):
        msg = "the document has no reference markers"
        raise ValueError(msg)
    return f"{head}{begin}\n\n{reference_markdown()}\n{end}{tail}"
