"""What `image-bot serve` reads: the schedule, the listen address and webhook secrets."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field, model_validator

from image_bot.config.fields import CronText, OptionalSecret, Section
from image_bot.config.policy import Duration

__all__ = ["ScheduleSpec", "ServiceSpec", "WebhooksSpec"]


class ScheduleSpec(Section):
    """When `image-bot serve` runs a pass: every `interval`, or on a `cron` expression."""

    interval: Duration | None = None
    """Time between passes: `10m`, `1h`."""
    cron: CronText | None = None
    """Cron expression (UTC): `*/15 * * * *`."""
    jitter: Duration = timedelta(0)
    """Start up to this much later, at random, to spread load (`30s`)."""

    @model_validator(mode="after")
    def _one_trigger(self) -> ScheduleSpec:
        if (self.interval is None) == (self.cron is None):
            msg = "give interval or cron (one of them)"
            raise ValueError(msg)
        if self.interval is not None and self.interval <= timedelta(0):
            msg = "interval must be positive"
            raise ValueError(msg)
        if self.jitter < timedelta(0):
            msg = "jitter cannot be negative"
            raise ValueError(msg)
        return self


class WebhooksSpec(Section):
    """`image-bot serve` only: secrets that webhook senders must present (unset = route off)."""

    github: OptionalSecret = None
    """GitHub (App or repository) webhook secret: checks `X-Hub-Signature-256`."""
    gitlab: OptionalSecret = None
    """GitLab container registry notifications: `Authorization: Bearer` or `X-Gitlab-Token`."""
    docker_hub: OptionalSecret = None
    """Docker Hub: the token as the URL's last segment (`/webhooks/dockerhub/<token>`)."""
    harbor: OptionalSecret = None
    """Harbor: the webhook's auth header value, sent as `Authorization`."""
    quay: OptionalSecret = None
    """Quay: the token as the URL's last segment (`/webhooks/quay/<token>`)."""
    generic: OptionalSecret = None
    """Generic webhook: HMAC-SHA256 key (`X-Signature-256: sha256=...`) or a bearer token."""


class ServiceSpec(Section):
    """`image-bot serve` only: the long-running service."""

    schedule: ScheduleSpec = ScheduleSpec(interval=timedelta(minutes=10))
    """When passes run (each repository may override it)."""
    host: str = "0.0.0.0"  # noqa: S104  (the service runs in a container; set 127.0.0.1 outside)
    """Address the HTTP server (health, metrics, status, webhooks) listens on."""
    port: int = Field(default=8080, ge=1, le=65535)
    """Port the HTTP server listens on."""
    webhooks: WebhooksSpec = WebhooksSpec()
    """Webhook secrets; a trigger runs a pass for the repositories using the pushed image."""
