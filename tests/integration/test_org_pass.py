"""Many repositories in one pass and across processes: side by side per forge host, within the
forge's rate-limit budget, split into `--shard`s, and never passed by two processes at once.

Real parts: the fake forge's GitHub (repositories seeded by tests/support/org.py), the real
registry, real git, and for the shared state a real PostgreSQL (tests/support/postgres.py).
"""

from __future__ import annotations

import dataclasses
import json
import subprocess  # noqa: TID251 (jobs are real processes)
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from image_bot.config.load import load_config
from image_bot.pipeline import PassOptions, run_pass
from image_bot.wiring.forges import Forges
from image_bot.wiring.passes import registry_opener
from tests.fakeforge.control import FakeForge
from tests.support.org import deployment, org_config, pull_listings, seed_org
from tests.support.postgres import RunningPostgres
from tests.support.registry import RunningRegistry
from tests.support.runs import run_once

pytestmark = pytest.mark.integration

IMAGES = 3


def _org(
    fake_forge: FakeForge, registry: RunningRegistry, repo_name: str, count: int
) -> tuple[list[str], set[str]]:
    """`count` repositories; every other one runs an outdated tag (one pull request due)."""
    for n in range(IMAGES):
        registry.push_tags(f"{repo_name}/img{n}", ["1.0.0", "1.1.0"], distinct=True)
    files, changing = {}, set()
    for n in range(count):
        name = f"org/{repo_name.rsplit('/', 1)[-1]}-r{n:02d}"
        tag = "1.0.0" if n % 2 == 0 else "1.1.0"
        if tag == "1.0.0":
            changing.add(name)
        image = f"{registry.host}/{repo_name}/img{n % IMAGES}"
        files[name] = {"deploy/app.yaml": deployment(image, tag)}
    return seed_org(fake_forge, files), changing


def _one_pull_request_each(fake_forge: FakeForge, names: list[str], changing: set[str]) -> None:
    for name in names:
        bot_branches = [b for b in fake_forge.branches(name) if b.startswith("image-bot/")]
        expected = 1 if name in changing else 0
        assert (len(fake_forge.pulls(name)), len(bot_branches)) == (expected, expected), name


def _name(url: str) -> str:
    """`org/NAME` of a (redacted) clone URL."""
    return "/".join(url.removesuffix(".git").split("/")[-2:])


def test_repositories_side_by_side_each_get_their_one_pull_request(
    fake_forge: FakeForge, registry: RunningRegistry, repo_name: str, tmp_path: Path
) -> None:
    names, changing = _org(fake_forge, registry, repo_name, 12)
    config = tmp_path / "image-bot.yaml"
    config.write_text(org_config(fake_forge, registry.host, names))
    code, report = run_once(config, tmp_path, "--concurrency", "4")
    assert code == 0, report
    # the report keeps the configured order
    assert [_name(r["repository"]) for r in report["repositories"]] == names
    _one_pull_request_each(fake_forge, names, changing)

    fake_forge.clear_calls()
    code, report = run_once(config, tmp_path, "--concurrency", "4")
    assert code == 0, report
    assert fake_forge.count_calls(writes=True) == 0
    assert pull_listings(fake_forge) == dict.fromkeys(names, 1)


def test_a_spent_rate_limit_budget_leaves_the_rest_for_the_next_pass(
    fake_forge: FakeForge, registry: RunningRegistry, repo_name: str, tmp_path: Path
) -> None:
    names, _ = _org(fake_forge, registry, repo_name, 4)
    changing = set(names[::2])
    config_file = tmp_path / "image-bot.yaml"
    config_file.write_text(org_config(fake_forge, registry.host, names))
    config = load_config(config_file)
    options = PassOptions(cache_dir=tmp_path / "cache", rate_limit_reserve=50)

    # what a pass reads before publishing (each repository's pull requests and dashboard),
    # counted by a dry run, which reads the same and writes nothing
    dry = dataclasses.replace(options, dry_run=True)
    run_pass(config, open_registry=registry_opener(config), forge_for=Forges(), options=dry)
    reads = fake_forge.count_calls("github")
    assert fake_forge.count_calls(writes=True) == 0

    # one request more than the reserve is left when publishing starts: the first repository
    # publishes, and once its requests took the budget to the reserve, no other starts
    fake_forge.state.rate_used = fake_forge.state.rate_limit - (50 + 1 + reads)
    report = run_pass(
        config, open_registry=registry_opener(config), forge_for=Forges(), options=options
    )
    first, *rest = report.repositories
    assert not first.errors
    for repository in rest:
        (error,) = repository.errors
        assert "requests left in the rate-limit window" in error
        assert "left for the next pass" in error
    assert len(fake_forge.pulls(names[0])) == 1
    assert all(fake_forge.pulls(name) == [] for name in names[1:])

    fake_forge.state.rate_used = 0  # a new window
    report = run_pass(
        config, open_registry=registry_opener(config), forge_for=Forges(), options=options
    )
    assert report.exit_code == 0, report
    _one_pull_request_each(fake_forge, names, changing)


def _job(config: Path, work: Path, *extra: str) -> subprocess.Popen[bytes]:
    """`image-bot run --once --json` as its own process (a Kubernetes Job's pod)."""
    work.mkdir()
    return subprocess.Popen(
        [
            *(sys.executable, "-m", "image_bot", "run", "--once", "--json"),
            *("--config", str(config), "--cache-dir", str(work / "cache")),
            *("--state-dir", str(work / "state"), "--concurrency", "2", *extra),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _reports(jobs: list[subprocess.Popen[bytes]]) -> list[tuple[int, dict[str, Any]]]:
    done = []
    for job in jobs:
        stdout, stderr = job.communicate(timeout=300)
        assert stdout.startswith(b"{"), stderr.decode()[-3000:]
        done.append((job.returncode, json.loads(stdout)))
    return done


def _postgres_config(
    fake_forge: FakeForge, registry: RunningRegistry, names: list[str], *, url: str, path: Path
) -> Path:
    path.write_text(
        org_config(fake_forge, registry.host, names, extra=f"state: {{url: '{url}', lease: 30s}}")
    )
    return path


@pytest.mark.slow
def test_indexed_job_shards_pass_every_repository_once_on_the_shared_state(  # noqa: PLR0917 (fixtures)
    fake_forge: FakeForge,
    registry: RunningRegistry,
    repo_name: str,
    postgres: RunningPostgres,
    postgres_url: str,
    tmp_path: Path,
) -> None:
    names, changing = _org(fake_forge, registry, repo_name, 15)
    config = _postgres_config(
        fake_forge, registry, names, url=postgres_url, path=tmp_path / "bot.yaml"
    )
    database = postgres_url.split("?", maxsplit=1)[0].rsplit("/", 1)[1]
    started = float(postgres.psql(database, "SELECT EXTRACT(EPOCH FROM clock_timestamp())"))
    results = _reports(
        [_job(config, tmp_path / f"shard-{i}", "--shard", f"{i}/3") for i in range(3)]
    )
    passed = [_name(r["repository"]) for _, report in results for r in report["repositories"]]
    assert sorted(passed) == sorted(names)  # no gap, no overlap
    assert all(code == 0 for code, _ in results), results
    assert pull_listings(fake_forge) == dict.fromkeys(names, 1)
    _one_pull_request_each(fake_forge, names, changing)

    # the shards' GitHub writes took turns through the shared state: every pull request
    # opened booked a turn a second after the previous one, whichever shard booked it
    api = fake_forge.github_api_url.rstrip("/")
    query = f"SELECT EXTRACT(EPOCH FROM next_at) FROM write_slots WHERE api = '{api}'"  # noqa: S608 (our fake's URL)
    next_free = postgres.psql(database, query)
    opened = fake_forge.count_calls("github", method="POST", path=r"/pulls$")
    assert opened == len(changing)
    assert float(next_free or "0") - started >= opened * 1.0

    images = postgres.psql(database, "SELECT count(DISTINCT image) FROM first_seen")
    assert images == str(IMAGES)  # one shared memory of first-seen times for all shards
    assert postgres.psql(database, "SELECT count(*) FROM leases") == "0"  # all given back

    fake_forge.clear_calls()  # the next run of the Indexed Job: nothing new, nothing written
    results = _reports(
        [_job(config, tmp_path / f"again-{i}", "--shard", f"{i}/3") for i in range(3)]
    )
    assert all(code == 0 for code, _ in results), results
    assert fake_forge.count_calls(writes=True) == 0


@pytest.mark.slow
def test_overlapping_jobs_never_pass_one_repository_at_once(
    fake_forge: FakeForge,
    registry: RunningRegistry,
    repo_name: str,
    postgres_url: str,
    tmp_path: Path,
) -> None:
    names, changing = _org(fake_forge, registry, repo_name, 16)
    config = _postgres_config(
        fake_forge, registry, names, url=postgres_url, path=tmp_path / "bot.yaml"
    )
    results = _reports([_job(config, tmp_path / f"job-{i}") for i in range(2)])
    _one_pull_request_each(fake_forge, names, changing)
    done_by: Counter[str] = Counter()
    for code, report in results:
        assert code == 0, report  # a repository left to the other job is a skip, not an error
        for repository in report["repositories"]:
            assert repository["errors"] == [], repository
            if repository["held_by"] is None:
                done_by[_name(repository["repository"])] += 1
            else:
                assert repository["outcome"] == "skipped", repository
    assert set(done_by) == set(names)  # each by one job or the other, or one after the other
