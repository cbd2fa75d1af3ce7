"""The GitLab contract (`../shared/contracts/gitlab-api.yaml`) as a router and checker:
documented method + path, known and well-typed parameters (from the query string or the JSON
body, as GitLab reads them), required ones present, documented status, and response keys
consistent with the documented example (no key missing, none unknown, same JSON types)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from tests.fakeforge.contracts import Operation, find_operation, split_raw_path

__all__ = ["TRUE_STRINGS", "GitLabContract"]

PAGINATION = frozenset({"page", "per_page"})
# Lists documented as "array of <thing> objects" without an example of their own.
LIST_ITEM_EXAMPLE = {
    "merge_request_notes.list": "merge_request_notes.create",
    "commits.list": "commits.create",
    "branches.list": "branches.get",
}
# GitLab (Grape with dry-types Params::Bool) reads these strings as booleans; python-gitlab
# sends Python's spelling ("True") for query parameters.
TRUE_STRINGS = frozenset(
    {"1", "on", "On", "ON", "t", "true", "True", "TRUE", "T", "y", "yes", "Yes", "YES", "Y"}
)
FALSE_STRINGS = frozenset(
    {"0", "off", "Off", "OFF", "f", "false", "False", "FALSE", "F", "n", "no", "No", "NO", "N"}
)
ERROR_STATUSES = frozenset({400, 401, 403, 404, 405, 409, 422, 429, 500, 503})


def _json_type(value: object) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _type_ok(kind: str, value: object) -> bool:
    if kind == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, str) and value.lstrip("-").isdigit()
        )
    if kind == "boolean":
        return isinstance(value, bool) or value in TRUE_STRINGS | FALSE_STRINGS
    if kind in {"string", "datetime"}:
        return isinstance(value, str)
    if kind == "comma-separated":
        return isinstance(value, str) or (
            isinstance(value, list) and all(isinstance(v, str) for v in value)
        )
    if kind == "integer array":
        items = value if isinstance(value, list) else [value]
        return all(_type_ok("integer", v) for v in items)
    if kind == "integer or string":
        return isinstance(value, int | str) and not isinstance(value, bool)
    return True  # hash, array: structure not described further


class GitLabContract:
    """Routing and checks against the transcribed GitLab v4 contract."""

    def __init__(self, path: Path) -> None:
        data = YAML(typ="safe").load(path.read_text())
        self.endpoints: dict[str, dict[str, Any]] = {e["id"]: e for e in data["endpoints"]}
        self.list_item_fields = [
            key.removeprefix("[].") for key in data["merge_request_list_item"]["response_fields"]
        ]
        self.operations = [
            Operation(e["id"], e["method"], e["path"], tuple(split_raw_path(e["path"])))
            for e in data["endpoints"]
        ]

    def example(self, endpoint_id: str) -> Any:
        """The endpoint's example response with `$ref_example` resolved (deep copy)."""
        value = self.endpoints[endpoint_id].get("example_response")
        return copy.deepcopy(self._resolve(value))

    def _resolve(self, value: Any) -> Any:
        if isinstance(value, dict) and "$ref_example" in value:
            base = dict(self._resolve(self.endpoints[value["$ref_example"]]["example_response"]))
            base.update({k: v for k, v in value.items() if k != "$ref_example"})
            return base
        if isinstance(value, list):
            return [self._resolve(v) for v in value]
        return value

    # ------------------------------------------------------------------ routing
    def match(self, method: str, raw_path: str) -> tuple[Operation, dict[str, str]] | None:
        """The documented endpoint for a call (path relative to `/api/v4`), or None."""
        return find_operation(self.operations, method, raw_path)

    # ------------------------------------------------------------------ requests
    def check_request(
        self,
        op: Operation,
        path_params: Mapping[str, str],
        query: Mapping[str, list[str]],
        body: object,
    ) -> list[str]:
        """Unknown, missing or ill-typed parameters of a call to `op`."""
        endpoint = self.endpoints[op.key]
        params = {p["name"].removesuffix("[]"): p for p in endpoint.get("params") or []}
        problems: list[str] = []
        if body is not None and not isinstance(body, dict):
            return [f"{op.key}: body must be a JSON object"]
        given: dict[str, object] = dict(body or {})
        for key, values in query.items():
            name = key.split("[", 1)[0]
            given.setdefault(name, values if key.endswith("[]") else values[-1])
        for name, value in given.items():
            param = params.get(name)
            if param is None or param["in"] == "path":
                if not (name in PAGINATION and op.method == "GET"):
                    problems.append(f"undocumented parameter {name!r}")
                continue
            if op.method == "GET" and param["in"] == "body":
                problems.append(f"{name!r} is a body parameter")
            kind = str(param["type"])
            if "comma-separated" in str(param.get("description", "")).lower():
                kind = "comma-separated"  # GitLab also takes a JSON array (python-gitlab sends one)
            if value is not None and not _type_ok(kind, value):
                problems.append(f"{name!r} should be {param['type']}, got {value!r}")
            allowed = param.get("enum")
            if allowed and value not in allowed:
                problems.append(f"{name!r} must be one of {allowed}, got {value!r}")
        for name, param in params.items():
            if param.get("required") and param["in"] != "path" and name not in given:
                problems.append(f"required parameter {name!r} is missing")
        for name, text in path_params.items():
            param = params.get(name)
            if param is not None and not _type_ok(str(param["type"]), text):
                problems.append(f"path {name!r} should be {param['type']}, got {text!r}")
        return problems

    # ------------------------------------------------------------------ responses
    def check_response(self, op: Operation, status: int, body: object) -> list[str]:
        """Undocumented status, or a body whose keys drift from the documented example."""
        endpoint = self.endpoints[op.key]
        # flow mappings in the YAML sometimes split a description into extra keys: keep codes
        documented = {int(k) for k in endpoint.get("responses") or {} if str(k).isdigit()}
        if status not in documented and status not in ERROR_STATUSES:
            return [f"status {status} is not documented for {op.key}"]
        if status >= 400:
            return (
                []
                if isinstance(body, dict) and "message" in body
                else [f"error body of {op.key} has no 'message'"]
            )
        if op.key == "merge_requests.list":
            return self._check_items(body, None, set(self.list_item_fields), op.key)
        if op.key in LIST_ITEM_EXAMPLE:
            example = self.example(LIST_ITEM_EXAMPLE[op.key])
            return self._check_items(body, example, set(example), op.key)
        example = self.example(op.key)
        if isinstance(example, list) and example and isinstance(example[0], dict):
            return self._check_items(body, example[0], set(example[0]), op.key)
        if not isinstance(example, dict):
            return []
        keys = set(example)
        if op.key == "merge_requests.get" and isinstance(body, dict):
            # documented by the rebase endpoint's poll states (include_rebase_in_progress)
            polled = self.endpoints["merge_requests.rebase"].get("poll_states") or []
            keys |= {k for state in polled for k in state} & set(body)
        return self._check_keys(body, example, keys, op.key)

    def _check_items(
        self, body: object, example: dict[str, Any] | None, keys: set[str], where: str
    ) -> list[str]:
        if not isinstance(body, list):
            return [f"{where}: response should be an array"]
        problems: list[str] = []
        for i, item in enumerate(body):
            problems += self._check_keys(item, example, keys, f"{where}[{i}]")
        return problems[:10]

    @staticmethod
    def _check_keys(
        body: object, example: dict[str, Any] | None, keys: set[str], where: str
    ) -> list[str]:
        if not isinstance(body, dict):
            return [f"{where}: response should be an object"]
        problems = [f"{where}: documented key {k!r} missing" for k in sorted(keys - set(body))]
        problems += [f"{where}: undocumented key {k!r}" for k in sorted(set(body) - keys)]
        for key, documented in (example or {}).items():
            value = body.get(key)
            if None not in (documented, value) and _json_type(documented) != _json_type(value):
                problems.append(
                    f"{where}: {key!r} is {_json_type(value)}, "
                    f"documented as {_json_type(documented)}"
                )
        return problems
