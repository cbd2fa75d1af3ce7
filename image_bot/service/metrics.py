"""Prometheus collectors of the service, in their own CollectorRegistry, fed from pass summaries.

Each `Metrics` owns a fresh `CollectorRegistry` (never prometheus-client's global one), so two
services or two tests never see each other's numbers. The pipeline's RunReport is adapted to
`PassSummary` by the service; this module knows nothing of the pipeline.
"""

from __future__ import annotations

import platform
from collections.abc import Mapping
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["CONTENT_TYPE", "Metrics", "PassSummary"]

CONTENT_TYPE = CONTENT_TYPE_LATEST
_PASS_BUCKETS = (1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0)
_PR_ACTIONS = ("opened", "updated", "closed")


@dataclass(frozen=True, slots=True)
class PassSummary:
    """What the metrics need from one pass (a RunReport, reduced).

    `tags_fetched` and `registry_errors` are keyed by registry host; `pull_requests` by
    action (`opened`, `updated`, `closed`); `rate_limit_remaining` by (source, host): source
    `registry` (a registry's `ratelimit-remaining`) or the forge (`github`, `gitlab`: its
    API's rate-limit headers), the last value reported in the pass.
    """

    duration_seconds: float
    outcome: str = "ok"  # ok | partial (something failed, the rest was done) | failed
    targeted: bool = False  # a webhook-triggered pass for some images, not the full schedule
    tags_fetched: Mapping[str, int] = field(default_factory=dict)
    registry_errors: Mapping[str, int] = field(default_factory=dict)
    pull_requests: Mapping[str, int] = field(default_factory=dict)
    rate_limit_remaining: Mapping[tuple[str, str], int] = field(default_factory=dict)
    finished_at: float | None = None  # unix time; None: not recorded


class Metrics:
    """The service's collectors; `observe_pass` and `observe_webhook` feed them."""

    def __init__(self, *, version: str = "unknown") -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.build = Info(
            "image_bot_build",
            "The running image-bot: its version and Python's (the value is always 1).",
            registry=self.registry,
        )
        self.build.info({"version": version, "python": platform.python_version()})
        self.passes = Counter(
            "image_bot_passes",
            "Passes run, by kind (scheduled or targeted) and outcome (ok, partial or failed).",
            ["kind", "outcome"],
            registry=self.registry,
        )
        self.pass_duration = Histogram(
            "image_bot_pass_duration_seconds",
            "Wall time of a pass.",
            ["kind"],
            buckets=_PASS_BUCKETS,
            registry=self.registry,
        )
        self.last_pass = Gauge(
            "image_bot_last_pass_timestamp_seconds",
            "Unix time the last pass finished.",
            registry=self.registry,
        )
        self.tags_fetched = Counter(
            "image_bot_tags_fetched",
            "Tags listed from registries, by registry host.",
            ["registry"],
            registry=self.registry,
        )
        self.registry_errors = Counter(
            "image_bot_registry_errors",
            "Images whose registry could not be read, by registry host.",
            ["registry"],
            registry=self.registry,
        )
        self.pull_requests = Counter(
            "image_bot_pull_requests",
            "Pull/merge requests the bot opened, updated or closed.",
            ["action"],
            registry=self.registry,
        )
        self.rate_limit_remaining = Gauge(
            "image_bot_rate_limit_remaining",
            "Requests left in the current rate-limit window, as a registry (source=registry) "
            "or forge API (source=github, gitlab) last reported it.",
            ["source", "host"],
            registry=self.registry,
        )
        self.webhooks = Counter(
            "image_bot_webhooks",
            "Webhook deliveries, by source and outcome (triggered, ignored, duplicate, "
            "unauthorized, invalid).",
            ["source", "outcome"],
            registry=self.registry,
        )
        for action in _PR_ACTIONS:  # export zeros so rate() works from the first scrape
            self.pull_requests.labels(action=action)

    def observe_pass(self, summary: PassSummary) -> None:
        """Count one finished pass."""
        kind = "targeted" if summary.targeted else "scheduled"
        self.passes.labels(kind=kind, outcome=summary.outcome).inc()
        self.pass_duration.labels(kind=kind).observe(max(summary.duration_seconds, 0.0))
        if summary.finished_at is not None:
            self.last_pass.set(summary.finished_at)
        for host, count in summary.tags_fetched.items():
            self.tags_fetched.labels(registry=host).inc(max(count, 0))
        for host, count in summary.registry_errors.items():
            self.registry_errors.labels(registry=host).inc(max(count, 0))
        for action, count in summary.pull_requests.items():
            self.pull_requests.labels(action=action).inc(max(count, 0))
        for (source, host), remaining in summary.rate_limit_remaining.items():
            self.rate_limit_remaining.labels(source=source, host=host).set(remaining)

    def observe_webhook(self, source: str, outcome: str) -> None:
        """Count one webhook delivery."""
        self.webhooks.labels(source=source, outcome=outcome).inc()

    def exposition(self) -> bytes:
        """The Prometheus text format of every collector (what `/metrics` serves)."""
        return generate_latest(self.registry)
