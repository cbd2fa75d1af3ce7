"""What an operator sees of `image-bot serve` (issue 12, operator basics): JSON logs from
image-bot and uvicorn alike, a startup line, a line per finished pass, the build info and
the forge's rate-limit quota on /metrics. The real command in its own process, a real
docker-registry, the fake GitHub (which sends GitHub's rate-limit headers).
"""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from image_bot import __version__
from tests.fakeforge.control import FakeForge
from tests.integration.serve_process import serve_process, wait_for
from tests.support.registry import RunningRegistry, free_port
from tests.support.runs import github_repository

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REPO = "acme/deploy"


def test_json_logs_startup_and_pass_lines_build_info_and_rate_limit(
    fake_forge: FakeForge, registry: RunningRegistry, repo_name: str, tmp_path: Path
) -> None:
    config = tmp_path / "image-bot.yaml"
    github_repository(fake_forge, registry, repo_name, config, repository=REPO)
    port = free_port()
    with config.open("a") as text:
        text.write(f"service:\n  schedule: {{interval: 1h}}\n  host: 127.0.0.1\n  port: {port}\n")
    with serve_process(config, port, "--log-format", "json") as service:
        wait_for("the first pass", lambda: len(fake_forge.pulls(REPO)) == 1)
        wait_for("the pass line", lambda: "pass finished" in service.logs())
        metrics = service.text("/metrics")
        service.process.send_signal(signal.SIGTERM)
        assert service.process.wait(timeout=30) == 0, service.logs()[-2000:]
        logs = service.logs()

    entries = [json.loads(line) for line in logs.splitlines()]  # every line is JSON
    by_message = {entry["message"]: entry for entry in entries}
    started = by_message[f"image-bot {__version__} serving"]
    assert (started["listen"], started["repositories"]) == (f"127.0.0.1:{port}", 1)
    finished = by_message["pass finished: ok"]
    assert finished["pull_requests_opened"] == 1
    assert (finished["failed_repositories"], finished["failed_images"]) == (0, 0)
    assert finished["duration_seconds"] > 0
    assert any(
        entry["logger"] == "uvicorn.error" and entry["message"].startswith("Uvicorn running on")
        for entry in entries
    )
    assert 'image_bot_build_info{python="' in metrics
    assert f'version="{__version__}"' in metrics
    api_host = fake_forge.github_api_url.split("://", 1)[1].split("/", 1)[0]
    gauge = next(
        line
        for line in metrics.splitlines()
        if line.startswith("image_bot_rate_limit_remaining{") and 'source="github"' in line
    )
    assert f'host="{api_host}"' in gauge
    assert 0 < float(gauge.rsplit(" ", 1)[1]) < 5000  # the fake counts each request
    assert fake_forge.bot_token not in logs
