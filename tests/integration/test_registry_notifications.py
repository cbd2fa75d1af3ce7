"""A real docker-registry (CNCF distribution, what GitLab's registry is built on) notifies the
service's `/webhooks/gitlab` route when an image is pushed through its API.

Two notification endpoints point at the same app: one with the right bearer token, one with a
wrong one. The push must trigger exactly one targeted pass, for the pushed image, and the
wrong token must be refused (401, counted, nothing triggered).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess  # noqa: TID251 (the test starts a real registry process)
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from image_bot.model import ImageName, Trigger
from image_bot.service.metrics import Metrics
from image_bot.service.status import ServiceState
from image_bot.service.web import create_app
from image_bot.service.webhooks import (
    WebhookSecrets,
)
from tests.fakeforge.server import serve_in_thread
from tests.support.registry import free_port

pytestmark = pytest.mark.integration

TOKEN = "registry-notify-token"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


class Received:
    """Triggers the app handed over, with a way to wait for them."""

    def __init__(self) -> None:
        self.triggers: list[Trigger] = []
        self._arrived = threading.Event()

    def __call__(self, trigger: Trigger) -> None:
        self.triggers.append(trigger)
        self._arrived.set()

    def wait(self, timeout: float) -> bool:
        return self._arrived.wait(timeout)


def webhook_samples(metrics: Metrics, outcome: str) -> float:
    value = metrics.registry.get_sample_value(
        "image_bot_webhooks_total", {"source": "gitlab", "outcome": outcome}
    )
    return value or 0.0


@pytest.fixture
def notifying_registry(tmp_path: Path) -> Iterator[tuple[str, Received, Metrics]]:
    if shutil.which("docker-registry") is None:
        pytest.skip("docker-registry is not installed (scripts/setup installs it)")
    received, metrics = Received(), Metrics()
    app = create_app(
        ServiceState(),
        trigger=received,
        secrets=WebhookSecrets(gitlab=TOKEN),
        metrics=metrics,
    )
    with serve_in_thread(app) as app_url:
        port = free_port()
        endpoint = {"url": f"{app_url}/webhooks/gitlab", "timeout": "2s", "backoff": "30s"}
        config = {
            "version": 0.1,
            "log": {"level": "error", "accesslog": {"disabled": True}},
            "storage": {"filesystem": {"rootdirectory": str(tmp_path / "storage")}},
            "http": {"addr": f"127.0.0.1:{port}", "secret": "image-bot-tests"},
            "notifications": {
                "endpoints": [
                    {
                        **endpoint,
                        "name": "right",
                        "headers": {"Authorization": [f"Bearer {TOKEN}"]},
                    },
                    {**endpoint, "name": "wrong", "headers": {"Authorization": ["Bearer guess"]}},
                ]
            },
        }
        config_path = tmp_path / "config.yml"
        config_path.write_text(json.dumps(config))  # JSON is YAML
        with (tmp_path / "registry.log").open("wb") as log:
            process = subprocess.Popen(
                ["docker-registry", "serve", str(config_path)], stdout=log, stderr=log
            )
        try:
            registry_url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"{registry_url}/v2/", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.05)
            else:
                pytest.fail((tmp_path / "registry.log").read_text()[-2000:])
            yield registry_url, received, metrics
        finally:
            process.kill()
            process.wait(timeout=10)


def push_image(registry_url: str, repository: str, tag: str) -> None:
    """Push a tiny image through the registry API (blobs, then the tagged manifest)."""
    with httpx.Client(base_url=registry_url, timeout=10) as client:
        blobs = []
        for content in (json.dumps({"architecture": "amd64", "os": "linux"}).encode(), b"layer"):
            digest = "sha256:" + hashlib.sha256(content).hexdigest()
            started = client.post(f"/v2/{repository}/blobs/uploads/")
            assert started.status_code == 202, started.text
            location = httpx.URL(started.headers["location"])  # keeps its `_state` query
            response = client.put(
                location.copy_merge_params({"digest": digest}),
                content=content,
                headers={"Content-Type": "application/octet-stream"},
            )
            assert response.status_code == 201, response.text
            blobs.append({"digest": digest, "size": len(content)})
        manifest = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **blobs[0]},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", **blobs[1]}],
        }
        response = client.put(
            f"/v2/{repository}/manifests/{tag}",
            content=json.dumps(manifest).encode(),
            headers={"Content-Type": OCI_MANIFEST},
        )
        assert response.status_code == 201, response.text


def test_push_notification_triggers_one_targeted_pass(
    notifying_registry: tuple[str, Received, Metrics],
) -> None:
    registry_url, received, metrics = notifying_registry
    push_image(registry_url, "team/app", "1.2.3")

    assert received.wait(timeout=15), "no authenticated notification arrived"
    deadline = time.monotonic() + 15
    while webhook_samples(metrics, "unauthorized") < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)  # let any stray delivery of the same push land before counting

    host = registry_url.removeprefix("http://")
    targeted = [trigger for trigger in received.triggers if trigger.images]
    assert [trigger.images for trigger in targeted] == [(ImageName(host, "team/app"),)]
    assert f"{host}/team/app:1.2.3" in targeted[0].reason
    assert webhook_samples(metrics, "unauthorized") >= 1  # the wrong token was refused
