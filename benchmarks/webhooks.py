"""Webhook handling cost: signed GitHub deliveries and registry hooks through the real app.

    .venv/bin/python benchmarks/webhooks.py [--deliveries 2000] [--body-kb 8]

Drives the starlette app in process (httpx ASGI transport, no sockets) and prints, per kind:
wall time, requests made, requests per second; then the memory the delivery log holds at its
bound, and peak RSS. A webhook must be answered quickly (GitHub waits 10 s, GitLab disables
slow hooks), so this shows how much of that budget verification and parsing take.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import resource
import time
import tracemalloc

import httpx

from image_bot.github_app.webhooks import DeliveryLog
from image_bot.model import Trigger
from image_bot.service.metrics import Metrics
from image_bot.service.status import ServiceState
from image_bot.service.web import create_app
from image_bot.service.webhooks import (
    WebhookSecrets,
)

SECRET = "benchmark-webhook-secret"  # noqa: S105 (a throwaway benchmark key)


def push_body(size_kb: int) -> bytes:
    commits = [
        {"id": f"{i:040x}", "message": "x" * 200, "modified": [f"apps/app{i}/deploy.yaml"]}
        for i in range(max(1, size_kb * 1024 // 300))
    ]
    payload = {
        "ref": "refs/heads/main",
        "deleted": False,
        "repository": {"full_name": "acme/gitops", "default_branch": "main"},
        "commits": commits,
    }
    return json.dumps(payload).encode()


async def drive(deliveries: int, size_kb: int) -> None:
    triggers: list[Trigger] = []
    app = create_app(
        ServiceState(),
        trigger=triggers.append,
        secrets=WebhookSecrets(github=SECRET, generic=SECRET),
        metrics=Metrics(),
    )
    body = push_body(size_kb)
    signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        kinds = {
            "github push (signed)": lambda i: client.post(
                "/webhooks/github",
                content=body,
                headers={
                    "X-GitHub-Event": "push",
                    "X-GitHub-Delivery": f"d-{i}",
                    "X-Hub-Signature-256": signature,
                },
            ),
            "github redelivery (dup)": lambda _i: client.post(
                "/webhooks/github",
                content=body,
                headers={
                    "X-GitHub-Event": "push",
                    "X-GitHub-Delivery": "d-0",
                    "X-Hub-Signature-256": signature,
                },
            ),
            "generic (bearer)": lambda _i: client.post(
                "/webhooks/generic",
                content=b'{"image": "ghcr.io/acme/app:1.2.3"}',
                headers={"Authorization": f"Bearer {SECRET}"},
            ),
            "unauthorized": lambda _i: client.post(
                "/webhooks/github", content=body, headers={"X-Hub-Signature-256": "sha256=0"}
            ),
        }
        print(f"body {len(body) / 1024:.1f} KiB, {deliveries} requests per kind")
        for name, send in kinds.items():
            started = time.perf_counter()
            for i in range(deliveries):
                await send(i)
            wall = time.perf_counter() - started
            print(f"{name:26} {wall:7.3f} s  {deliveries / wall:8.0f} req/s")
    print(f"triggers handed over: {len(triggers)}")


def delivery_log_memory(capacity: int, recorded: int) -> None:
    tracemalloc.start()
    log = DeliveryLog(capacity)
    for i in range(recorded):
        log.record(f"72d3162e-cc78-11e3-81ab-{i:012x}")
    current, _peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"delivery log: {recorded} ids recorded, {len(log)} kept, {current / 1024:.0f} KiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--deliveries", type=int, default=2000)
    parser.add_argument("--body-kb", type=int, default=8)
    args = parser.parse_args()
    asyncio.run(drive(args.deliveries, args.body_kb))
    delivery_log_memory(4096, 100_000)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:.0f} MiB")


if __name__ == "__main__":
    main()
