"""What a pass costs the registry, counted by the registry's own access log.

A pass with nothing new lists each image's tags once and asks nothing else (with state);
a new tag costs that image's candidates one HEAD each; a tag followed by digest is asked
every pass, so a re-pushed tag is never missed. See docs/registries.md, "Requests per pass".
"""

from __future__ import annotations

import json
import subprocess  # noqa: TID251  (the real command in a fresh interpreter)
import sys
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from image_bot.cli import cli
from image_bot.config import Config
from image_bot.config.load import load_config
from image_bot.pipeline import PassOptions, run_pass
from image_bot.state import StateStore
from image_bot.wiring.forges import Forges
from image_bot.wiring.passes import registry_opener
from tests.fakeforge.control import FakeForge
from tests.support.gitrepo import MakeRemote
from tests.support.registry import RunningRegistry

pytestmark = pytest.mark.integration

REPO = "acme/deploy"
IMAGES = 4
SOURCE = {"org.opencontainers.image.source": "https://github.com/acme/app"}


def _run(config: Path, work: Path, *extra: str) -> dict[str, Any]:
    args = [
        "run", "--once", "--json", "--config", str(config), "--cache-dir", str(work / "cache"),
        "--state-dir", str(work / "state"), *extra,
    ]  # fmt: skip
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.stdout.startswith("{"), result.output
    report: dict[str, Any] = json.loads(result.stdout)
    assert result.exit_code == 0, report
    return report


def _kinds(registry: RunningRegistry, repo_name: str, before: int) -> Counter[str]:
    return Counter(r.kind for r in registry.served(repo_name)[before:])


def _actions(report: dict[str, Any]) -> Counter[str]:
    return Counter(b["action"] for r in report["repositories"] for b in r["branches"])


@pytest.fixture
def github_setup(
    fake_forge: FakeForge, registry: RunningRegistry, repo_name: str, tmp_path: Path
) -> Path:
    """IMAGES images at 1.0.0 (1.1.0 exists), each in a Deployment and a compose file."""
    files, services = {}, []
    for n in range(IMAGES):
        registry.push_tags(f"{repo_name}/app{n}", ["1.0.0", "1.1.0"], distinct=True)
        image = f"{registry.host}/{repo_name}/app{n}"
        files[f"apps/app{n}.yaml"] = (
            f"kind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n"
            f"        - name: app\n          image: {image}:1.0.0\n"
        )
        services.append(f"  app{n}:\n    image: {image}:1.0.0\n")
    files["compose.yaml"] = "services:\n" + "".join(services)
    fake_forge.create_repo(REPO, files)
    config = tmp_path / "image-bot.yaml"
    config.write_text(
        f"registries: [{{host: '{registry.host}', insecure: true}}]\n"
        "repositories:\n"
        f"  - url: '{fake_forge.git_url(REPO)}'\n"
        f"    project: {REPO}\n"
        f"    forge: {{type: github, api_url: '{fake_forge.github_api_url}',"
        f" token: '{fake_forge.bot_token}'}}\n"
    )
    return config


def test_a_pass_with_nothing_new_lists_each_image_once_and_writes_nothing(
    github_setup: Path, fake_forge: FakeForge, registry: RunningRegistry, repo_name: str
) -> None:
    work = github_setup.parent
    before = len(registry.served(repo_name))
    report = _run(github_setup, work)
    assert _actions(report) == {"create": IMAGES}
    # cold: each image listed once; the winner and the current tag HEADed once each,
    # although two references (two files) use each image. Then each created pull request's
    # content (labels, created time, platforms): the new version's manifest and config
    # blob, GET by the digest the scan settled (no HEAD again). Its labels name no source,
    # so the old version's labels (for a compare link) are not asked
    assert _kinds(registry, repo_name, before) == {
        "list": IMAGES, "head": 2 * IMAGES, "manifest": IMAGES, "blob": IMAGES,
    }  # fmt: skip

    for _ in range(2):
        before = len(registry.served(repo_name))
        fake_forge.clear_calls()
        report = _run(github_setup, work)
        assert _actions(report) == {"keep": IMAGES}
        assert _kinds(registry, repo_name, before) == {"list": IMAGES}
        assert fake_forge.count_calls(writes=True) == 0


def test_one_new_tag_costs_its_image_one_head_per_candidate(
    github_setup: Path, fake_forge: FakeForge, registry: RunningRegistry, repo_name: str
) -> None:
    work = github_setup.parent
    _run(github_setup, work)
    registry.push_tags(f"{repo_name}/app0", ["1.2.0"], distinct=True)
    before = len(registry.served(repo_name))
    report = _run(github_setup, work)
    assert _actions(report) == {"update": 1, "keep": IMAGES - 1}
    # app0's tag set changed: its new winner and its current tag are asked; nothing else
    served = registry.served(repo_name)[before:]
    heads = sorted(r.path for r in served if r.kind == "head")
    assert heads == [
        f"/v2/{repo_name}/app0/manifests/1.0.0",
        f"/v2/{repo_name}/app0/manifests/1.2.0",
    ]
    # the updated pull request's content asks the new version's manifest and config blob;
    # the old version's labels were remembered (by digest) when its pull request was opened
    assert Counter(r.kind for r in served) == {"list": IMAGES, "head": 2, "manifest": 1, "blob": 1}


def _local_config(tmp_path: Path, registry: RunningRegistry, remote: str) -> Path:
    config = tmp_path / "image-bot.yaml"
    config.write_text(
        f"registries: [{{host: '{registry.host}', insecure: true}}]\n"
        f"repositories: [{{url: '{remote}', forge: local}}]\n"
    )
    return config


def test_a_pinned_tag_pushed_again_is_noticed_on_the_next_pass(
    registry: RunningRegistry, repo_name: str, git_remote: MakeRemote, tmp_path: Path
) -> None:
    image = f"{registry.host}/{repo_name}/app"
    first = registry.push_image(f"{repo_name}/app", "1.20")
    remote = git_remote(files={"app.yaml": f"image: {image}:1.20@{first}\n"})
    config = _local_config(tmp_path, registry, remote.url)
    assert _actions(_run(config, tmp_path)) == {}  # 1.20 still names the pinned digest
    assert _actions(_run(config, tmp_path)) == {}
    moved = registry.push_image(
        f"{repo_name}/app", "1.20", created=datetime(2030, 1, 1, tzinfo=UTC)
    )  # the same tag pushed again: the image's tag set does not change
    assert moved != first
    before = len(registry.served(repo_name))
    report = _run(config, tmp_path, "--dry-run")
    (branch,) = report["repositories"][0]["branches"]
    assert f"+image: {image}:1.20@{moved}" in branch["diff"]
    # and the dry run's pull request content: the moved digest's manifest and config blob
    assert _kinds(registry, repo_name, before) == {"list": 1, "head": 1, "manifest": 1, "blob": 1}


def test_a_tag_pushed_again_is_asked_again_once_its_digest_is_older_than_the_ttl(
    registry: RunningRegistry, repo_name: str, git_remote: MakeRemote, tmp_path: Path
) -> None:
    """Unpinned, `1.20` runs the image `1.20.1` names: nothing is proposed while they are
    one digest. That comparison is remembered for --digest-ttl (6h) while the tag set holds."""
    digest = registry.push_image(f"{repo_name}/app", "1.20")
    registry.seeder.tag(f"{repo_name}/app", "1.20.1", digest.removeprefix("sha256:"))
    image = f"{registry.host}/{repo_name}/app"
    remote = git_remote(files={"app.yaml": f"image: {image}:1.20\n"})
    config = load_config(_local_config(tmp_path, registry, remote.url))
    options = PassOptions(cache_dir=tmp_path / "cache", dry_run=True)
    t0 = datetime.now(UTC)

    def run(now: datetime) -> tuple[list[str], Counter[str]]:
        before = len(registry.served(repo_name))
        with StateStore.in_dir(tmp_path / "state") as state:
            report = run_pass(
                config, open_registry=registry_opener(config), forge_for=Forges(),
                options=options, state=state, now=now,
            )  # fmt: skip
        (repo,) = report.repositories
        targets = [c.new.tag or "" for b in repo.branches for c in b.changes]
        return targets, _kinds(registry, repo_name, before)

    assert run(t0) == ([], {"list": 1, "head": 2})  # 1.20.1 is the image 1.20 runs
    assert run(t0 + timedelta(minutes=1)) == ([], {"list": 1})
    # pushed again: now another image, which names its source
    registry.push_image(f"{repo_name}/app", "1.20.1", labels=SOURCE)
    assert run(t0 + timedelta(hours=5)) == ([], {"list": 1})  # trusted for 6 hours
    # asked again: 1.20.1 is proposed, and its pull request's content (in this dry run)
    # costs both versions' manifest and config blob, by the digests just asked (the old
    # version's labels for the compare link, since the new one names a source)
    content = {"manifest": 2, "blob": 2}
    assert run(t0 + timedelta(hours=7)) == (["1.20.1"], {"list": 1, "head": 2, **content})


def test_a_changed_tag_set_makes_remembered_digests_be_asked_again(
    registry: RunningRegistry, repo_name: str, git_remote: MakeRemote, tmp_path: Path
) -> None:
    digest = registry.push_image(f"{repo_name}/app", "1.20")
    registry.seeder.tag(f"{repo_name}/app", "1.20.1", digest.removeprefix("sha256:"))
    image = f"{registry.host}/{repo_name}/app"
    remote = git_remote(files={"app.yaml": f"image: {image}:1.20\n"})
    config = _local_config(tmp_path, registry, remote.url)
    assert _actions(_run(config, tmp_path)) == {}
    moved = registry.push_image(f"{repo_name}/app", "1.20.1")  # pushed again, and beside it:
    registry.push_image(f"{repo_name}/app", "1.19.9")  # a new tag changes the tag set
    before = len(registry.served(repo_name))
    report = _run(config, tmp_path, "--dry-run")
    assert _actions(report) == {"create": 1}
    (details,) = report["repositories"][0]["branches"][0]["details"]
    assert details["digest"] == moved  # the new image's, not what the state file said 1.20.1 was
    # and the pull request's content, by the digest just asked (not the one the state file
    # holds: a dry run could not update it): the new version's manifest and config blob.
    # It names no source, so the old version's labels are not asked
    assert _kinds(registry, repo_name, before) == {"list": 1, "head": 2, "manifest": 1, "blob": 1}


def test_content_facts_are_remembered_by_digest(
    registry: RunningRegistry, repo_name: str, git_remote: MakeRemote, tmp_path: Path
) -> None:
    """Platforms (and created times, labels) of a digest never change: asked once."""
    for tag in ("1.0.0", "1.1.0"):
        registry.push_image(
            f"{repo_name}/app", tag, platforms=("linux/amd64", "linux/arm64"), labels=SOURCE
        )
    image = f"{registry.host}/{repo_name}/app"
    remote = git_remote(files={"app.yaml": f"image: {image}:1.0.0\n"})
    config = _local_config(tmp_path, registry, remote.url)
    config.write_text(config.read_text() + "default_policy: {platforms: [linux/arm64]}\n")
    before = len(registry.served(repo_name))
    assert _actions(_run(config, tmp_path, "--dry-run")) == {"create": 1}
    # the policy reads platforms: each version's index; then the pull request's content
    # (labels, created time): a platform's manifest and config blob of each version (the
    # old version's for its labels: the new one names its source), the indexes not again
    assert _kinds(registry, repo_name, before) == {"list": 1, "manifest": 2 + 2, "blob": 2}
    _run(config, tmp_path)
    before = len(registry.served(repo_name))
    assert _actions(_run(config, tmp_path, "--dry-run")) == {"keep": 1}
    assert _kinds(registry, repo_name, before) == {"list": 1}


def test_the_pull_requests_details_reuse_the_scans_bearer_tokens(
    token_registry: RunningRegistry, repo_name: str, git_remote: MakeRemote, tmp_path: Path
) -> None:
    """One token per image scope a pass: the details' registry session (another
    OCIRegistry) asks none of the tokens the scan got again."""
    server = token_registry.token_server
    assert server is not None
    files = {}
    for n in range(2):
        token_registry.push_image(f"{repo_name}/app{n}", "1.0.0", labels=SOURCE)
        token_registry.push_image(f"{repo_name}/app{n}", "1.1.0", labels=SOURCE)
        files[f"app{n}.yaml"] = f"image: {token_registry.host}/{repo_name}/app{n}:1.0.0\n"
    remote = git_remote(files=files)
    config = tmp_path / "image-bot.yaml"
    config.write_text(
        f"registries: [{{host: '{token_registry.host}', insecure: true,"
        f" username: {token_registry.username}, password: {token_registry.password}}}]\n"
        f"repositories: [{{url: '{remote.url}', forge: local}}]\n"
    )
    before = server.requests, len(token_registry.served(repo_name))
    report = _run(config, tmp_path, "--dry-run")
    assert _actions(report) == {"create": 2}
    # both images' details asked (the new and, naming a source, the old version's)
    kinds = _kinds(token_registry, repo_name, before[1])
    assert (kinds["manifest"], kinds["blob"]) == (4, 4)
    assert server.requests - before[0] == 2  # one per image, though two sessions read each


HEAVY = (
    "github", "gitlab", "apscheduler", "starlette", "uvicorn", "prometheus_client", "rich",
    "requests", "cryptography", "jwt", "pygments",
)  # fmt: skip


def test_a_pass_with_the_local_forge_loads_no_forge_service_or_terminal_library(
    registry: RunningRegistry, repo_name: str, git_remote: MakeRemote, tmp_path: Path
) -> None:
    """The real command in a fresh interpreter: what it imported to run a whole pass."""
    registry.push_tags(f"{repo_name}/app", ["1.0.0", "1.1.0"], distinct=True)
    remote = git_remote(files={"app.yaml": f"image: {registry.host}/{repo_name}/app:1.0.0\n"})
    config = _local_config(tmp_path, registry, remote.url)
    argv = ["run", "--once", "--json", "--config", str(config), "--cache-dir",
            str(tmp_path / "cache"), "--state-dir", str(tmp_path / "state")]  # fmt: skip
    code = (
        "import sys\n"
        "from image_bot.cli import main\n"
        f"try:\n    main({argv!r})\nexcept SystemExit as done:\n    code = done.code\n"
        f"loaded = sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})\n"
        "print(code, ' '.join(loaded) or '-', file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout)["repositories"][0]["branches"][0]["action"] == "create"
    assert done.stderr.splitlines()[-1] == "0 -"


@pytest.fixture(params=["sqlite", "postgresql"])
def shared_state(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], StateStore]:
    """Opens the state the passes share: a SQLite file, or a real PostgreSQL database."""
    if request.param == "sqlite":
        return lambda: StateStore.in_dir(tmp_path / "state")
    url: str = request.getfixturevalue("postgres_url")
    return lambda: StateStore.at_url(url)


def test_passes_of_one_period_list_each_image_once_and_a_new_period_lists_again(
    registry: RunningRegistry,
    repo_name: str,
    git_remote: MakeRemote,
    tmp_path: Path,
    shared_state: Callable[[], StateStore],
) -> None:
    """The jobs of a shared queue: one pass per repository, each told when its period began
    (`listings_since`); a webhook's pass is told nothing and lists afresh."""
    images = [f"{registry.host}/{repo_name}/app{n}" for n in range(3)]
    for n in range(3):
        registry.push_tags(f"{repo_name}/app{n}", ["1.0.0", "1.1.0"], distinct=True)
    manifest = "".join(f"---\nimage: {image}:1.1.0\n" for image in images)
    configs = []
    for n in range(3):
        remote = git_remote(files={"app.yaml": manifest})
        (tmp_path / f"r{n}").mkdir()
        configs.append(load_config(_local_config(tmp_path / f"r{n}", registry, remote.url)))

    def run(config: Config, now: datetime, since: datetime | None) -> Counter[str]:
        options = PassOptions(cache_dir=tmp_path / "cache", listings_since=since)
        before = len(registry.served(repo_name))
        with shared_state() as state:
            report = run_pass(
                config, open_registry=registry_opener(config), forge_for=Forges(),
                options=options, state=state, now=now,
            )  # fmt: skip
        assert report.exit_code == 0, report
        return _kinds(registry, repo_name, before)

    period = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    first, second, third = configs
    assert run(first, period + timedelta(seconds=1), period)["list"] == 3
    assert run(second, period + timedelta(seconds=9), period)["list"] == 0  # shared
    assert run(third, period + timedelta(seconds=20), period)["list"] == 0
    assert run(second, period + timedelta(seconds=30), None)["list"] == 3  # a webhook's
    later = period + timedelta(hours=1)  # the next period: its first pass lists again
    assert run(third, later + timedelta(seconds=2), later)["list"] == 3
    assert run(first, later + timedelta(seconds=5), later)["list"] == 0
