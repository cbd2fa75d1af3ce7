"""The published GitHub contract (`../shared/contracts/github-openapi-subset.json`) as a router
and validator: which documented operation a call is, and what is wrong with its request and
response. Validators are compiled once per process and cached per schema location."""

from __future__ import annotations

import copy
import functools
import json
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openapi_schema_validator import OAS30Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

__all__ = ["GitHubContract", "Operation", "match_template", "split_raw_path"]

GREEDY_PARAMS = frozenset({"ref", "path"})


@dataclass(frozen=True, slots=True)
class Operation:
    """One documented operation: `key` is the operationId (GitHub) or endpoint id (GitLab)."""

    key: str
    method: str
    template: str
    segments: tuple[str, ...]


def split_raw_path(raw_path: str) -> list[str]:
    """Raw (still percent-encoded) path segments, without the empty leading one."""
    return raw_path.strip("/").split("/") if raw_path.strip("/") else []


def _param_name(segment: str) -> str | None:
    if segment.startswith("{") and segment.endswith("}"):
        return segment[1:-1]
    if segment.startswith(":"):
        return segment[1:]
    return None


def match_template(segments: tuple[str, ...], raw: list[str]) -> dict[str, str] | None:
    """Path parameters (percent-decoded) when `raw` fits the template, else None. A last
    `{ref}`/`{path}` parameter swallows the remaining segments, as on GitHub."""
    params: dict[str, str] = {}
    for i, segment in enumerate(segments):
        name = _param_name(segment)
        last = i == len(segments) - 1
        if name in GREEDY_PARAMS and last and segment.startswith("{"):
            if i >= len(raw):
                return None
            params[name] = urllib.parse.unquote("/".join(raw[i:]))
            return params
        if i >= len(raw):
            return None
        if name is None:
            if segment != raw[i]:
                return None
        else:
            params[name] = urllib.parse.unquote(raw[i])
    return params if len(raw) == len(segments) else None


def find_operation(
    operations: Iterable[Operation], method: str, raw_path: str
) -> tuple[Operation, dict[str, str]] | None:
    """The first of `operations` whose method and path template match, with its path params."""
    raw = split_raw_path(raw_path)
    for op in operations:
        if op.method == method:
            params = match_template(op.segments, raw)
            if params is not None:
                return op, params
    return None


def _pointer(*parts: str) -> str:
    return "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def _errors(validator: OAS30Validator, instance: object, where: str) -> list[str]:
    return [
        f"{where}/{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}"
        for e in validator.iter_errors(instance)
    ][:10]


def _coerce(value: str, schema: Mapping[str, Any]) -> object:
    kind = schema.get("type")
    if kind == "integer":
        try:
            return int(value)
        except ValueError:
            return value
    if kind == "boolean":
        return {"true": True, "false": False}.get(value, value)
    return value


def _fix_upstream_defects(spec: dict[str, Any]) -> None:
    """Repair what no real GitHub response could satisfy (each fix says why).

    PUT contents 409: `oneOf: [basic-error, repository-rule-violation-error]`, but both
    schemas accept any object of optional string fields, so every body matches both and
    `oneOf` always fails; `anyOf` is what the description means.
    """
    put = spec["paths"]["/repos/{owner}/{repo}/contents/{path}"]["put"]
    schema = put["responses"]["409"]["content"]["application/json"]["schema"]
    schema["anyOf"] = schema.pop("oneOf")


class GitHubContract:
    """Routing and validation against the GitHub OpenAPI subset."""

    def __init__(self, spec_path: Path) -> None:
        self.spec: dict[str, Any] = json.loads(spec_path.read_text())
        _fix_upstream_defects(self.spec)
        resource = Resource.from_contents(self.spec, default_specification=DRAFT4)
        self._registry: Registry[Any] = Registry().with_resource("urn:gh", resource)
        self._valid_items: set[int] = set()
        self.operations: list[Operation] = []
        for template, item in self.spec["paths"].items():
            for method in item:
                if method != "parameters":
                    op = item[method]
                    segs = tuple(split_raw_path(template))
                    self.operations.append(
                        Operation(op["operationId"], method.upper(), template, segs)
                    )

    # ------------------------------------------------------------------ helpers
    def _resolve(self, node: Mapping[str, Any], pointer: str) -> tuple[Mapping[str, Any], str]:
        while "$ref" in node:
            pointer = node["$ref"].removeprefix("#")
            node = self.spec
            for part in pointer.strip("/").split("/"):
                node = node[part.replace("~1", "/").replace("~0", "~")]
        return node, pointer

    @functools.cache  # noqa: B019 - one contract per process; validators must be reused
    def _validator(self, pointer: str) -> OAS30Validator:
        return OAS30Validator({"$ref": f"urn:gh#{pointer}"}, registry=self._registry)

    def _op(self, op: Operation) -> tuple[Mapping[str, Any], str]:
        return self.spec["paths"][op.template][op.method.lower()], _pointer(
            "", "paths", op.template, op.method.lower()
        )

    def example(self, name: str) -> Any:
        """A deep copy of `components/examples/<name>/value`."""
        return copy.deepcopy(self.spec["components"]["examples"][name]["value"])

    # ------------------------------------------------------------------ routing
    def match(self, method: str, raw_path: str) -> tuple[Operation, dict[str, str]] | None:
        """The documented operation for a call (path relative to the API root), or None."""
        return find_operation(self.operations, method, raw_path)

    # ------------------------------------------------------------------ validation
    def check_request(
        self,
        op: Operation,
        path_params: Mapping[str, str],
        query: Mapping[str, list[str]],
        body: object,
    ) -> list[str]:
        """What is wrong with a request to `op` (unknown/missing/ill-typed params, body)."""
        node, pointer = self._op(op)
        problems: list[str] = []
        known: dict[tuple[str, str], tuple[Mapping[str, Any], str]] = {}
        for i, raw_param in enumerate(node.get("parameters", [])):
            param, ppointer = self._resolve(raw_param, f"{pointer}/parameters/{i}")
            known[(param["in"], param["name"])] = (param, ppointer)
            if param["in"] == "query" and param.get("required") and param["name"] not in query:
                problems.append(f"query parameter {param['name']!r} is required")
        for name, values in query.items():
            found = known.get(("query", name))
            if found is None:
                problems.append(f"undocumented query parameter {name!r}")
                continue
            param, ppointer = found
            value = _coerce(values[-1], param["schema"])
            problems += _errors(self._validator(f"{ppointer}/schema"), value, f"query {name}")
        for name, text in path_params.items():
            found = known.get(("path", name))
            if found is not None:
                param, ppointer = found
                value = _coerce(text, param["schema"])
                problems += _errors(self._validator(f"{ppointer}/schema"), value, f"path {name}")
        request_body = node.get("requestBody")
        if request_body is None:
            if body is not None:
                problems.append("a body was sent to an operation that takes none")
            return problems
        rb, rpointer = self._resolve(request_body, f"{pointer}/requestBody")
        if body is None:
            if rb.get("required"):
                problems.append("request body is required")
            return problems
        schema_ptr = f"{rpointer}/content/{_pointer('application/json')}/schema"
        return problems + _errors(self._validator(schema_ptr), body, "body")

    def check_webhook(self, key: str, payload: object) -> list[str]:
        """What is wrong with a webhook payload (`key` as in `x-webhooks`, e.g. `push`)."""
        post = self.spec["x-webhooks"][key]["post"]
        schema = post["requestBody"]["content"]["application/json"]["schema"]
        _, pointer = self._resolve(schema, "")
        return _errors(self._validator(pointer), payload, f"webhook {key}")

    def check_response(self, op: Operation, status: int, body: object) -> list[str]:
        """What is wrong with a response of `op` (undocumented status, body against schema)."""
        node, pointer = self._op(op)
        responses = node["responses"]
        key = str(status) if str(status) in responses else "default"
        if key not in responses:
            return [f"status {status} is not documented for {op.key}"]
        response, rpointer = self._resolve(responses[key], f"{pointer}/responses/{key}")
        content = response.get("content", {})
        json_content = content.get("application/json")
        if json_content is None or "schema" not in json_content:
            if body is not None and not content:
                return [f"{op.key} {status} documents no body, but one was sent"]
            return []
        schema_ptr = f"{rpointer}/content/{_pointer('application/json')}/schema"
        schema, resolved_ptr = self._resolve(json_content["schema"], schema_ptr)
        if isinstance(body, list) and schema.get("type") == "array" and "items" in schema:
            return self._check_items(f"{resolved_ptr}/items", body, f"response {status}")
        return _errors(self._validator(schema_ptr), body, f"response {status}")

    def _check_items(self, items_ptr: str, body: list[Any], where: str) -> list[str]:
        """Validate array items one by one, skipping items already seen valid (listings
        return the same objects again and again; validation is the fake's main cost)."""
        problems: list[str] = []
        for i, item in enumerate(body):
            digest = hash((items_ptr, json.dumps(item, sort_keys=True)))
            if digest in self._valid_items:
                continue
            found = _errors(self._validator(items_ptr), item, f"{where}/{i}")
            if not found:
                self._valid_items.add(digest)
            problems += found
        return problems[:10]
