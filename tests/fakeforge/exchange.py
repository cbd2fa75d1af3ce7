"""The request/response values API handlers of the fake forge take and return."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.fakeforge.state import ForgeState, User

__all__ = ["ApiError", "ApiRequest", "ApiResponse", "Handler"]


@dataclass(frozen=True, slots=True)
class ApiRequest:
    """One authenticated API call, already matched to a documented operation."""

    method: str
    path_params: dict[str, str]
    query: dict[str, list[str]]
    body: Any
    user: User
    url: str  # full URL as received (for pagination links)

    def arg(self, name: str, default: Any = None) -> Any:
        """A parameter from the JSON body or, failing that, the query string (GitLab style)."""
        if isinstance(self.body, dict) and name in self.body:
            return self.body[name]
        values = self.query.get(name) or self.query.get(f"{name}[]")
        if values is None:
            return default
        return values if name.endswith("s") and len(values) > 1 else values[-1]

    def q(self, name: str, default: str | None = None) -> str | None:
        """Last value of a query parameter."""
        values = self.query.get(name)
        return values[-1] if values else default


@dataclass(slots=True)
class ApiResponse:
    """What a handler answers: status, JSON body (None for no body) and extra headers."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None  # non-JSON body (raw file downloads)


class ApiError(Exception):
    """Raised by handlers to answer an error status with a body."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status}: {body}")
        self.response = ApiResponse(status, body, headers or {})


Handler = Callable[[ForgeState, ApiRequest], ApiResponse]
