"""Hostile webhooks against the real `image-bot serve` (its own process): deeply nested JSON
on every authenticated route is a 400 and changes nothing; oversized and unsigned deliveries
are refused; the service stays healthy, a hostile registry in the same passes fails alone,
and the healthy image still moves on the next valid webhook. Peak memory stays bounded."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.serve_process import ServeProcess, serve_process, wait_for
from tests.support.gitrepo import GitRemote, MakeRemote
from tests.support.hostile import HostileServer, json_answer
from tests.support.registry import RunningRegistry, free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]

GENERIC, GITLAB, GITHUB = "hostile-generic-key", "hostile-gitlab-token", "hostile-github-secret"
NESTED = b'{"image": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"
MAX_RSS_MIB = 250


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@pytest.fixture
def served(
    registry: RunningRegistry, repo_name: str, git_remote: MakeRemote, tmp_path: Path
) -> Iterator[tuple[ServeProcess, GitRemote, str]]:
    image = f"{registry.host}/{repo_name}/web"
    registry.push_tags(f"{repo_name}/web", ["1.0.0", "1.1.0"], distinct=True)
    with HostileServer() as hostile:
        hostile.route("/v2/", json_answer({"tags": ["1.0.0", "zz\nimage: evil", "\x00"]}))
        remote = git_remote(
            files={
                "apps/web.yaml": f"image: {image}:1.0.0\n",
                "apps/bad.yaml": f"image: {hostile.host}/h/bad:1.0.0\n",
            }
        )
        port = free_port()
        config = tmp_path / "image-bot.yaml"
        config.write_text(
            "registries:\n"
            f"  - {{host: '{registry.host}', insecure: true}}\n"
            f"  - {{host: '{hostile.host}', insecure: true}}\n"
            f"repositories:\n  - {{url: '{remote.url}', forge: local}}\n"
            "service:\n"
            "  schedule: {interval: 1h}\n"
            f"  host: 127.0.0.1\n  port: {port}\n"
            f"  webhooks: {{generic: {GENERIC}, gitlab: {GITLAB}, github: {GITHUB}}}\n"
        )
        with serve_process(config, port) as service:
            yield service, remote, image


def deployed_tag(remote: GitRemote) -> str | None:
    branches = remote.branches("image-bot/")
    if not branches:
        return None
    (branch,) = branches
    return remote.show(branch, "apps/web.yaml").rsplit(":", 1)[-1].strip()


def peak_rss_mib(service: ServeProcess) -> float:
    status = Path(f"/proc/{service.process.pid}/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def test_hostile_deliveries_change_nothing_and_the_service_goes_on(
    served: tuple[ServeProcess, GitRemote, str], registry: RunningRegistry, repo_name: str
) -> None:
    service, remote, image = served
    wait_for("the first pass", lambda: deployed_tag(remote) == "1.1.0")
    hooks = f"{service.url}/webhooks"
    deliveries = [
        ("generic", {"X-Signature-256": sign(GENERIC, NESTED)}),
        ("gitlab", {"X-Gitlab-Token": GITLAB}),
        ("gitlab", {"X-Gitlab-Token": GITLAB, "X-Gitlab-Event": "Push Hook"}),
        ("github", {"X-Hub-Signature-256": sign(GITHUB, NESTED), "X-GitHub-Event": "push"}),
    ]
    for _ in range(5):
        for route, headers in deliveries:
            answer = httpx.post(f"{hooks}/{route}", content=NESTED, headers=headers, timeout=30)
            assert (answer.status_code, answer.json()["status"]) == (400, "invalid"), answer.text
    unsigned = httpx.post(f"{hooks}/generic", content=NESTED, timeout=30)
    assert unsigned.status_code == 401
    oversized = b'{"image": "' + b"x" * (2 << 20) + b'"}'
    too_large = httpx.post(f"{hooks}/gitlab", content=oversized, headers=deliveries[1][1])
    assert too_large.status_code == 413
    health = service.get("/healthz")
    assert health is not None
    assert health.status_code == 200

    registry.push_tags(f"{repo_name}/web", ["1.2.0"], distinct=True)
    valid = b'{"image": "' + f"{image}:1.2.0".encode() + b'"}'
    accepted = httpx.post(
        f"{hooks}/generic", content=valid, headers={"X-Signature-256": sign(GENERIC, valid)}
    )
    assert accepted.status_code == 202, accepted.text
    wait_for("the webhook's pass", lambda: deployed_tag(remote) == "1.2.0")
    metrics = service.text("/metrics")
    assert 'image_bot_webhooks_total{outcome="invalid",source="generic"} 5.0' in metrics
    assert 'image_bot_webhooks_total{outcome="invalid",source="github"} 5.0' in metrics
    logs = service.logs()
    assert "Traceback" not in logs
    assert "pass crashed" not in logs
    assert "dropped 2 tag(s) that are not valid tag names" in logs
    peak = peak_rss_mib(service)
    assert peak < MAX_RSS_MIB, f"peak RSS {peak:.0f} MiB"
    print(f"peak RSS of serve after the hostile deliveries: {peak:.0f} MiB")
