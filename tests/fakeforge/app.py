"""The fake forge's starlette app: routes each call to GitHub REST (`/api/v3`), GitLab REST
(`/api/v4`) or git smart HTTP (`/<owner>/<repo>.git/...`), checks the token, answers injected
faults, runs the handler under the state lock, and validates request and response against the
published contracts (violations are recorded on the state, never swallowed)."""

from __future__ import annotations

import json
import re
import traceback
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.fakeforge.contracts import Operation
from tests.fakeforge.exchange import ApiError, ApiRequest, ApiResponse, Handler
from tests.fakeforge.githttp import serve_git
from tests.fakeforge.state import Call, Fault, ForgeState, User

__all__ = ["Flavour", "build_app"]

GIT_PATH = re.compile(r"^/(?P<repo>[^?]+?\.git)(?P<rest>/.*)$")
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]


class Contract(Protocol):
    """What the app needs from a contract (GitHub OpenAPI or GitLab YAML)."""

    def match(self, method: str, raw_path: str) -> tuple[Operation, dict[str, str]] | None: ...

    def check_request(
        self,
        op: Operation,
        path_params: dict[str, str],
        query: dict[str, list[str]],
        body: object,
    ) -> list[str]: ...

    def check_response(self, op: Operation, status: int, body: object) -> list[str]: ...


@dataclass(frozen=True, slots=True)
class Flavour:
    """One REST API the fake speaks: where it is mounted and how it talks."""

    name: str  # github | gitlab
    prefix: str  # /api/v3 | /api/v4
    contract: Contract
    handlers: dict[str, Handler]
    jwt_operations: frozenset[str] = frozenset()  # authenticated by an App JWT instead
    jwt_user: Callable[[ForgeState, str], User | None] | None = None

    def token_user(self, forge: ForgeState, request: Request, operation: str) -> User | None:
        """The account (or App, for JWT operations) the request's credentials prove."""
        auth = request.headers.get("authorization", "")
        scheme, _, value = auth.partition(" ")
        if operation in self.jwt_operations:
            ok = scheme.lower() == "bearer" and self.jwt_user is not None
            return self.jwt_user(forge, value.strip()) if ok and self.jwt_user else None
        if scheme.lower() in {"token", "bearer"}:
            return forge.user_for_token(value.strip())
        if self.name == "gitlab":
            token = request.headers.get("private-token") or request.headers.get("job-token")
            return forge.user_for_token(token)
        return None

    def error(self, status: int, message: str) -> Any:
        """An error body in this flavour's shape."""
        if self.name == "github":
            return {"message": message, "documentation_url": "https://docs.github.com/rest"}
        return {"message": f"{status} {message}"}


def _fault_response(flavour: Flavour, fault: Fault, forge: ForgeState) -> ApiResponse:
    headers: dict[str, str] = {}
    if fault.retry_after is not None:
        headers["Retry-After"] = str(fault.retry_after)
    if fault.rate_limit_remaining_zero:
        headers["X-RateLimit-Remaining"] = "0"
        headers["RateLimit-Remaining"] = "0"
        headers["X-RateLimit-Reset"] = headers["RateLimit-Reset"] = str(forge.rate_reset)
    return ApiResponse(fault.status, flavour.error(fault.status, fault.message), headers)


def _rate_headers(forge: ForgeState) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(forge.rate_limit),
        "X-RateLimit-Remaining": str(max(0, forge.rate_limit - forge.rate_used)),
        "X-RateLimit-Used": str(forge.rate_used),
        "X-RateLimit-Reset": str(forge.rate_reset),
        "X-RateLimit-Resource": "core",
    }


def _render(resp: ApiResponse) -> Response:
    if resp.raw is not None:
        return Response(resp.raw, resp.status, resp.headers, "application/octet-stream")
    if resp.body is None:
        return Response(b"", resp.status, resp.headers)
    payload = json.dumps(resp.body).encode()
    return Response(payload, resp.status, resp.headers, "application/json; charset=utf-8")


def _exchange(
    request: Request,
    forge: ForgeState,
    flavour: Flavour,
    raw_rel: str,
    raw_body: bytes,
) -> tuple[ApiResponse, str | None]:
    """Validate, authenticate and serve one API call; raises ApiError for early answers."""
    method = request.method
    query: dict[str, list[str]] = {}
    for key, value in urllib.parse.parse_qsl(request.url.query, keep_blank_values=True):
        query.setdefault(key, []).append(value)
    matched = flavour.contract.match(method, raw_rel)
    if matched is None:
        forge.violation(f"{flavour.name}: undocumented call {method} {raw_rel}")
        raise ApiError(404, flavour.error(404, "Not Found"))
    op, path_params = matched
    body = _json_body(forge, flavour, op, raw_body)
    problems = flavour.contract.check_request(op, path_params, query, body)
    if problems:
        forge.violation(f"{flavour.name} {op.key} request: {'; '.join(problems)}")
        raise ApiError(422, flavour.error(422, "Validation Failed: " + "; ".join(problems)))
    user = flavour.token_user(forge, request, op.key)
    if user is None:
        message = "Bad credentials" if flavour.name == "github" else "Unauthorized"
        raise ApiError(401, flavour.error(401, message))
    fault = forge.take_fault(flavour.name, method, raw_rel)
    if fault is not None:
        return _fault_response(flavour, fault, forge), op.key
    handler = flavour.handlers.get(op.key)
    if handler is None:
        forge.violation(f"{flavour.name}: the fake does not implement {op.key}")
        raise ApiError(404, flavour.error(404, "Not Found"))
    req = ApiRequest(method, path_params, query, body, user, _raw_url(request))
    with forge.lock:
        try:
            resp = handler(forge, req)
        except ApiError as exc:
            resp = exc.response
        except Exception:  # a bug in the fake itself: make it loud in the test that hit it
            forge.violation(f"fake forge crashed in {op.key}:\n{traceback.format_exc()}")
            resp = ApiResponse(500, flavour.error(500, "Internal Server Error"))
    for problem in flavour.contract.check_response(op, resp.status, resp.body):
        forge.violation(f"{flavour.name} {op.key} response: {problem}")
    return resp, op.key


def _raw_url(request: Request) -> str:
    """The URL as the client sent it: `request.url` would decode `group%2Fproject`."""
    raw_path = request.scope.get("raw_path", b"").decode("latin-1") or request.url.path
    base = f"{request.url.scheme}://{request.url.netloc}"
    query = request.url.query
    return f"{base}{raw_path.split('?', 1)[0]}" + (f"?{query}" if query else "")


def _json_body(forge: ForgeState, flavour: Flavour, op: Operation, raw_body: bytes) -> Any:
    if not raw_body:
        return None
    try:
        return json.loads(raw_body)
    except json.JSONDecodeError as exc:
        forge.violation(f"{flavour.name} {op.key}: body is not JSON")
        raise ApiError(400, flavour.error(400, "Problems parsing JSON")) from exc


async def _serve_api(
    request: Request, forge: ForgeState, flavour: Flavour, raw_rel: str
) -> Response:
    raw_body = await request.body()
    operation = None
    try:
        resp, operation = _exchange(request, forge, flavour, raw_rel, raw_body)
    except ApiError as exc:
        resp = exc.response
    if flavour.name == "github":
        if operation != "rate-limit/get":
            forge.rate_used += 1
        resp.headers = {**_rate_headers(forge), **resp.headers}
    forge.record(Call(flavour.name, request.method, raw_rel, operation, resp.status))
    return _render(resp)


def build_app(
    forge: ForgeState,
    flavours: list[Flavour],
    extra: dict[str, Any],
    after_call: Callable[[], None],
) -> Starlette:
    """The ASGI app. `extra` maps exact paths (e.g. `/api/graphql`) to async endpoints;
    `after_call` runs after every call (the webhook sender looks for changes)."""

    async def dispatch(request: Request) -> Response:
        response = await route(request)
        if request.method not in {"GET", "HEAD"}:
            after_call()
        return response

    async def route(request: Request) -> Response:
        raw_path = request.scope.get("raw_path", b"").decode("latin-1").split("?", 1)[0]
        raw_path = raw_path or request.url.path
        if raw_path in extra:
            response: Response = await extra[raw_path](request)
            return response
        for flavour in flavours:
            if raw_path.startswith(flavour.prefix + "/"):
                return await _serve_api(request, forge, flavour, raw_path[len(flavour.prefix) :])
        git = GIT_PATH.match(urllib.parse.unquote(raw_path))
        if git:
            response = await serve_git(request, forge, git["repo"], git["rest"])
            forge.record(Call("git", request.method, raw_path, None, response.status_code))
            return response
        forge.violation(f"no such endpoint {request.method} {raw_path}")
        return Response(b"not found\n", 404)

    return Starlette(routes=[Route("/{path:path}", dispatch, methods=METHODS)])
