"""GitHub webhook deliveries as GitHub signs them (`X-Hub-Signature-256`), for tests that
post to a running `image-bot serve`."""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["github_delivery_headers"]


def github_delivery_headers(
    secret: str, body: bytes, *, event: str, delivery: str
) -> dict[str, str]:
    """The headers of a `event` delivery with id `delivery`, signed with `secret`."""
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": f"sha256={signature}",
    }
