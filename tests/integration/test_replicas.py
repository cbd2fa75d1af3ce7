"""Four `image-bot serve` replicas on one PostgreSQL state share the work of 200 repositories.

Real processes, a real PostgreSQL (tests/support/postgres.py), the fake forge's GitHub with
200 repositories (tests/support/org.py) and the real registry. One test walks through what a
replicated deployment must get right, in order:

1. the first scheduled period: every repository is passed exactly once (one pull request
   listing each), whichever replica's tick came first; changing repositories get one pull
   request and one branch each, no-op ones nothing; every replica's status page shows
   every repository's pass;
2. one replica is SIGKILLed while it passes a repository: its job is taken over by another
   replica within the lease time and the repository converges (still one pull request);
3. a webhook storm of 1,000 signed push deliveries (duplicates included, spread over the
   live replicas) for 40 repositories: exactly one pass per affected repository.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess  # noqa: TID251 (the replicas are real processes)
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from tests.fakeforge.control import FakeForge
from tests.integration.serve_process import wait_for
from tests.support.deliveries import github_delivery_headers
from tests.support.org import deployment, org_config, pull_listings, seed_org
from tests.support.postgres import RunningPostgres
from tests.support.registry import RunningRegistry, free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REPOSITORIES = 200
IMAGES = 10
REPLICAS = 4
LEASE = 6  # seconds
SECRET = "replica-webhook-secret"


class Replica:
    """One `image-bot serve` process with its own port, HOME, state directory and clones."""

    def __init__(self, index: int, config: Path, home: Path) -> None:
        home.mkdir()
        self.port = free_port()
        self.log = home / "serve.log"
        env = {**os.environ, "HOME": str(home), "XDG_CACHE_HOME": str(home / "cache")}
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [
                    *(sys.executable, "-m", "image_bot", "serve", "--config", str(config)),
                    *("--port", str(self.port), "--state-dir", str(home / "state")),
                    *("--concurrency", "2", "--tag-cache-ttl", "10m", "--log-format", "json"),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
            )
        self.index = index

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


def _passes(replica: Replica) -> tuple[list[str], list[str]]:
    """The repositories whose queued pass the replica started, and finished (its log)."""
    started, done = [], []
    for line in replica.log.read_text(errors="replace").splitlines():
        if "queued pass" not in line:
            continue
        entry = json.loads(line)
        (started if entry["message"] == "queued pass starting" else done).append(
            entry["repository"]
        )
    return started, done


def _finished_at(replica: Replica, repository: str) -> datetime:
    """When the replica finished its last queued pass of `repository` (its log); far in the
    future when it did not."""
    finished = datetime.max.replace(tzinfo=UTC)
    for line in replica.log.read_text(errors="replace").splitlines():
        if "queued pass done" in line:
            entry = json.loads(line)
            if entry["repository"] == repository:
                finished = datetime.fromisoformat(entry["time"])
    return finished


def _unfinished(replica: Replica) -> set[str]:
    started, done = _passes(replica)
    return set(started) - set(done)


def _waiting(postgres: RunningPostgres, database: str) -> int:
    """Jobs waiting or running in the shared queue."""
    return int(
        postgres.psql(
            database,
            "SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing')",
        )
    )


@pytest.fixture
def org(
    fake_forge: FakeForge, registry: RunningRegistry, repo_name: str, tmp_path: Path
) -> Iterator[tuple[list[str], set[str], Path]]:
    """200 repositories; every third one uses an outdated tag (a pull request to open)."""
    images = [f"{registry.host}/{repo_name}/img{n}" for n in range(IMAGES)]
    for n in range(IMAGES):
        registry.push_tags(f"{repo_name}/img{n}", ["1.0.0", "1.1.0"], distinct=True)
    files = {}
    changing = set()
    for n in range(REPOSITORIES):
        name = f"org/r{n:03d}"
        tag = "1.0.0" if n % 3 == 0 else "1.1.0"
        if tag == "1.0.0":
            changing.add(name)
        files[name] = {"deploy/app.yaml": deployment(images[n % IMAGES], tag)}
    names = seed_org(fake_forge, files)
    yield names, changing, tmp_path


def test_replicas_share_the_work_survive_a_kill_and_fold_a_webhook_storm(
    fake_forge: FakeForge,
    registry: RunningRegistry,
    postgres: RunningPostgres,
    postgres_url: str,
    org: tuple[list[str], set[str], Path],
) -> None:
    names, changing, work = org
    database = postgres_url.split("?", maxsplit=1)[0].rsplit("/", 1)[1]
    config = work / "image-bot.yaml"
    config.write_text(
        org_config(
            fake_forge,
            registry.host,
            names,
            extra=(
                f"state: {{url: '{postgres_url}', lease: {LEASE}s}}\n"
                f"service: {{schedule: {{interval: 100d}}, webhooks: {{github: {SECRET}}}}}"
            ),
            write_interval=0.1,  # turns still shared through the database, a tenth as long
        )
    )
    with ExitStack() as stack:
        replicas = []
        for index in range(REPLICAS):
            replica = Replica(index, config, work / f"replica-{index}")
            stack.callback(replica.kill)
            replicas.append(replica)

        # 2. kill replica 0 while it works on a repository (after its first few)
        victim = replicas[0]
        wait_for(
            "replica 0 to be in the middle of its fourth pass",
            lambda: len(_passes(victim)[0]) >= 4 and bool(_unfinished(victim)),
            timeout=180,
        )
        victim.kill()
        killed_at = datetime.now(UTC)
        held = _unfinished(victim)
        assert held, "replica 0 was killed between two passes"

        # 1. the period ends: every repository passed, the victim's ones taken over
        wait_for(
            "every repository to be passed",
            lambda: (
                set(pull_listings(fake_forge)) == set(names) and _waiting(postgres, database) == 0
            ),
            timeout=600,
        )
        listings = pull_listings(fake_forge)
        twice = {name for name, count in listings.items() if count > 1}
        assert twice <= set(held), f"passed more than once: {sorted(twice)}"
        assert all(listings[name] <= 2 for name in held)
        taken_over = [
            json.loads(line)
            for replica in replicas[1:]
            for line in replica.log.read_text().splitlines()
            if "taking over a dead replica" in line
        ]
        assert {entry["lock"] for entry in taken_over} >= set(held)
        # noticed after `lease` without heartbeats, passed once the dead replica's repository
        # leases lapsed (about 2 x lease; the rest is slack for a loaded CI machine)
        for name in held:
            finished = min(_finished_at(replica, name) for replica in replicas[1:])
            assert (finished - killed_at).total_seconds() < 3 * LEASE + 30, name
        for name in names:
            pulls = fake_forge.pulls(name)
            bot_branches = [b for b in fake_forge.branches(name) if b.startswith("image-bot/")]
            expected = 1 if name in changing else 0
            assert (len(pulls), len(bot_branches)) == (expected, expected), name
            assert all(len(pull.comments) == 0 for pull in pulls)
        # each live replica's status page shows every repository's last pass, whichever
        # replica ran it (the shared state), not only the quarter it ran itself
        for replica in replicas[1:]:
            page = httpx.get(f"http://127.0.0.1:{replica.port}/", timeout=30).text
            assert page.count("<dt>Last pass</dt><dd><time") == REPOSITORIES, replica.index

        # 3. a webhook storm: 1,000 deliveries (each sent twice) for 40 repositories
        fake_forge.clear_calls()
        live = replicas[1:]
        affected = names[:40]
        deliveries = []
        for n in range(500):
            name = affected[n % len(affected)]
            repo = fake_forge.repo(name)
            head = repo.git.branch_sha("main") or ""
            payload = fake_forge.webhooks.payloads.github_push(repo, "main", head, head)
            deliveries.append((f"storm-{n}", json.dumps(payload).encode()))
        with httpx.Client(timeout=30) as client:
            for n, (delivery, body) in enumerate(deliveries * 2):  # every delivery twice
                answer = client.post(
                    f"http://127.0.0.1:{live[n % len(live)].port}/webhooks/github",
                    content=body,
                    headers=github_delivery_headers(SECRET, body, event="push", delivery=delivery),
                )
                assert answer.status_code in (200, 202), answer.text
        wait_for(
            "the storm's passes",
            lambda: (
                set(pull_listings(fake_forge)) == set(affected)
                and _waiting(postgres, database) == 0
            ),
            timeout=300,
        )
        time.sleep(1)
        assert pull_listings(fake_forge) == dict.fromkeys(affected, 1)
        assert fake_forge.count_calls(writes=True) == 0  # nothing new: no write anywhere
        for replica in live:
            replica.stop()
            assert replica.process.returncode == 0, replica.log.read_text()[-3000:]
