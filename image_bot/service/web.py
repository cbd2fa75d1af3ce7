"""The service's HTTP face: /healthz /readyz /metrics, the status page and webhook routes.

`create_app` wires a starlette app to an injected `ServiceState`, `Metrics`, secrets and
callbacks; it imports no pipeline. Webhook handlers authenticate first (constant time), parse
second and call `trigger` last, so a bad or unsigned request never triggers anything.

| route                      | answers |
|----------------------------|---------|
| `GET /healthz`             | 200 while the process serves requests |
| `GET /readyz`              | 200 once config is loaded and the scheduler started, else 503 |
| `GET /metrics`             | Prometheus text format |
| `GET /`                    | the status page |
| `POST /webhooks/github`    | GitHub App deliveries (`X-Hub-Signature-256`, deduplicated) |
| `POST /webhooks/<source>`  | `dockerhub`, `harbor`, `quay`, `gitlab`, `generic` registry hooks |
|                            | (`gitlab` also takes GitLab project hooks: `X-Gitlab-Event`)     |
| `POST /webhooks/<source>/<secret>` | the same, for senders that can only vary the URL |

Webhook answers: 202 something was triggered or handed over, 200 valid but nothing to do (or a
duplicate delivery), 400 malformed payload, 401 bad/missing credentials or route without a
secret, 413 body too large.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from image_bot.errors import WebhookPayloadError
from image_bot.github_app.webhooks import (
    DeliveryLog,
    GitHubEvent,
    Ignored,
    parse_github_event,
)
from image_bot.model import Trigger
from image_bot.service.gitlab_hooks import parse_gitlab_event
from image_bot.service.metrics import CONTENT_TYPE, Metrics
from image_bot.service.status import ServiceState, render_status_page
from image_bot.service.webhooks import (
    PARSERS,
    RegistrySource,
    WebhookSecrets,
    authenticate,
    verify_hmac_sha256,
)

__all__ = ["GITHUB_MAX_BODY", "REGISTRY_MAX_BODY", "Deliveries", "create_app"]

logger = logging.getLogger(__name__)

REGISTRY_MAX_BODY = 1 << 20  # registry notifications are small; refuse anything bigger
GITHUB_MAX_BODY = 25 * (1 << 20)  # GitHub's own cap on webhook payloads
_PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class _TooLarge(Exception):
    pass


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _TooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _answer(status: int, outcome: str, **extra: object) -> JSONResponse:
    return JSONResponse({"status": outcome, **extra}, status_code=status)


def _triggered(trigger: Trigger) -> JSONResponse:
    return _answer(
        202,
        "triggered",
        images=[str(image) for image in trigger.images],
        repositories=list(trigger.repositories),
        reason=trigger.reason,
    )


class Deliveries(Protocol):
    """Where handled webhook delivery ids are remembered (`DeliveryLog`, or shared state)."""

    def __contains__(self, delivery_id: object) -> bool: ...

    def record(self, delivery_id: str) -> None:
        """Remember `delivery_id` as handled."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class _Handlers:
    """The request handlers, bound to the service's injected parts."""

    state: ServiceState
    trigger: Callable[[Trigger], None]
    secrets: WebhookSecrets
    metrics: Metrics
    on_github: Callable[[GitHubEvent], None] | None
    base_branch: Callable[[str], str | None] | None
    deliveries: Deliveries
    clock: Callable[[], datetime]

    async def healthz(self, _: Request) -> Response:
        return PlainTextResponse("ok\n")

    async def readyz(self, _: Request) -> Response:
        if self.state.ready:
            return PlainTextResponse("ready\n")
        return PlainTextResponse("not ready\n", status_code=503)

    async def metrics_text(self, _: Request) -> Response:
        return Response(self.metrics.exposition(), media_type=CONTENT_TYPE)

    async def status_page(self, _: Request) -> Response:
        state = self.state
        repositories = await run_in_threadpool(state.repositories)  # may read the database
        page = render_status_page(repositories, now=self.clock(), ready=state.ready)
        return HTMLResponse(page, headers=_PAGE_HEADERS)

    def registry_hook(self, source: RegistrySource) -> Callable[[Request], Awaitable[Response]]:
        async def handle(request: Request) -> Response:
            return await self._registry_hook(source, request)

        return handle

    async def _registry_hook(self, source: RegistrySource, request: Request) -> Response:
        secret = self.secrets.for_source(source)
        try:
            body = await _read_body(request, REGISTRY_MAX_BODY)
        except _TooLarge:
            self.metrics.observe_webhook(source, "too_large")
            return _answer(413, "too large")
        path_token = request.path_params.get("token")
        headers, query = request.headers, request.query_params
        if not authenticate(secret, body, headers, query, path_token=path_token):
            if secret is None:
                logger.warning("%s webhook received but no secret is configured", source)
            self.metrics.observe_webhook(source, "unauthorized")
            return _answer(401, "unauthorized")
        # GitLab project hooks share the gitlab route; their header tells them apart
        project_event = headers.get("x-gitlab-event") if source is RegistrySource.GITLAB else None
        key = headers.get("idempotency-key") if project_event else None
        delivery = f"gitlab:{key}" if key else None
        if delivery is not None and delivery in self.deliveries:
            self.metrics.observe_webhook(source, "duplicate")
            return _answer(200, "duplicate", delivery=key)
        try:
            if project_event:
                wanted = parse_gitlab_event(project_event, body, base_branch=self.base_branch)
            else:
                wanted = PARSERS[source](body)
        except WebhookPayloadError as exc:
            self.metrics.observe_webhook(source, "invalid")
            return _answer(400, "invalid", error=exc.message)
        if delivery is not None:
            self.deliveries.record(delivery)
        if wanted.is_empty:
            self.metrics.observe_webhook(source, "ignored")
            return _answer(200, "ignored")
        self.trigger(wanted)
        self.metrics.observe_webhook(source, "triggered")
        logger.info("%s webhook: %s", source, wanted.reason)
        return _triggered(wanted)

    async def github_hook(self, request: Request) -> Response:
        source = "github"
        try:
            body = await _read_body(request, GITHUB_MAX_BODY)
        except _TooLarge:
            self.metrics.observe_webhook(source, "too_large")
            return _answer(413, "too large")
        secret = (self.secrets.github or "").encode()
        if not verify_hmac_sha256(secret, body, request.headers.get("x-hub-signature-256")):
            self.metrics.observe_webhook(source, "unauthorized")
            return _answer(401, "unauthorized")
        delivery = request.headers.get("x-github-delivery")
        if delivery and delivery in self.deliveries:
            self.metrics.observe_webhook(source, "duplicate")
            return _answer(200, "duplicate", delivery=delivery)
        event_name = request.headers.get("x-github-event")
        try:
            event = parse_github_event(event_name, body, base_branch=self.base_branch)
        except WebhookPayloadError as exc:
            self.metrics.observe_webhook(source, "invalid")
            return _answer(400, "invalid", error=exc.message)
        response = self._dispatch(event)
        if delivery:
            self.deliveries.record(delivery)
        outcome = "ignored" if response.status_code == 200 else "triggered"
        self.metrics.observe_webhook(source, outcome)
        return response

    def _dispatch(self, event: GitHubEvent) -> Response:
        match event:
            case Ignored(reason=reason):
                return _answer(200, "ignored", reason=reason)
            case Trigger():
                if event.is_empty:
                    return _answer(200, "ignored", reason="nothing to do")
                self.trigger(event)
                logger.info("github webhook: %s", event.reason)
                return _triggered(event)
            case _ if self.on_github is not None:
                self.on_github(event)
                return _answer(202, "accepted", event=type(event).__name__)
            case _:
                return _answer(200, "ignored", reason="no handler for this event")


def create_app(
    state: ServiceState,
    *,
    trigger: Callable[[Trigger], None],
    secrets: WebhookSecrets,
    metrics: Metrics,
    on_github: Callable[[GitHubEvent], None] | None = None,
    base_branch: Callable[[str], str | None] | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    deliveries: Deliveries | None = None,
) -> Starlette:
    """The service's starlette app.

    `trigger` receives every non-empty Trigger (it must only enqueue: it runs in the request).
    `on_github` receives GitHub PullRequestDeclined and InstallationChanged values (commands
    arrive as Triggers: the pass reads them from the forge);
    without it those are answered 200 and dropped. `base_branch(owner/repo)` tells which
    pushes re-plan a repository (default: the repository's default branch). Delivery ids
    (`X-GitHub-Delivery`, GitLab's `Idempotency-Key`) are remembered in `deliveries`
    (default: a bounded log in memory; replicas share one in their state database).
    """
    handlers = _Handlers(
        state=state,
        trigger=trigger,
        secrets=secrets,
        metrics=metrics,
        on_github=on_github,
        base_branch=base_branch,
        deliveries=deliveries if deliveries is not None else DeliveryLog(),
        clock=clock,
    )
    routes = [
        Route("/", handlers.status_page, methods=["GET"]),
        Route("/healthz", handlers.healthz, methods=["GET"]),
        Route("/readyz", handlers.readyz, methods=["GET"]),
        Route("/metrics", handlers.metrics_text, methods=["GET"]),
        Route("/webhooks/github", handlers.github_hook, methods=["POST"]),
        *(
            Route(path, handlers.registry_hook(source), methods=["POST"])
            for source in RegistrySource
            for path in (f"/webhooks/{source.value}", f"/webhooks/{source.value}/{{token}}")
        ),
    ]
    return Starlette(routes=routes)
