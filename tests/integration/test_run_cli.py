"""`image-bot run`: exit codes, logs, text output, state and min_age, secrets kept out."""

from __future__ import annotations

import json
import shutil
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from image_bot.cli import cli
from image_bot.config.load import load_config
from image_bot.pipeline import lease_name
from image_bot.state import StateStore
from tests.support.gitrepo import MakeRemote
from tests.support.registry import RunningRegistry, free_port

pytestmark = pytest.mark.integration


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["run", *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_run_without_once_is_a_usage_error() -> None:
    code, _, err = invoke("--config", "nowhere.yaml")
    assert code == 2
    assert "--once" in err


def test_a_bad_config_exits_2_naming_the_field(tmp_path: Path) -> None:
    config = tmp_path / "image-bot.yaml"
    config.write_text("repositories:\n  - url: x\n    grouping: {strategy: sideways}\n")
    code, _, err = invoke("--once", "--config", str(config))
    assert code == 2
    assert "grouping" in err


def test_an_unreachable_remote_fails_its_repository_without_leaking_the_password(
    tmp_path: Path,
) -> None:
    secret = "hunter2-very-secret"
    url = f"http://bot:{secret}@127.0.0.1:{free_port()}/deploy.git"
    config = tmp_path / "image-bot.yaml"
    config.write_text(f"repositories:\n  - url: '{url}'\n")
    args = ["--once", "--config", str(config), "--cache-dir", str(tmp_path / "c"), "--no-state"]
    code, out, err = invoke(*args, "--json", "--log-format", "json")
    assert code == 1
    report = json.loads(out)
    assert report["repositories"][0]["errors"]
    assert secret not in out
    assert secret not in err
    logs = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert any(entry["level"] == "warning" for entry in logs)
    assert not list((tmp_path / "c").glob(f"*{secret}*"))


@pytest.mark.parametrize(
    ("before", "after", "shown"),
    [
        ((), (), True),  # run's default in text: warnings and errors
        ((), ("--log-level", "error"), False),
        (("--log-level", "error"), (), False),  # the group's option applies to run
        (("--log-level", "error"), ("--log-level", "warning"), True),  # the command's wins
    ],
)
def test_log_level_on_the_group_or_the_command(
    tmp_path: Path, before: tuple[str, ...], after: tuple[str, ...], shown: bool
) -> None:
    config = tmp_path / "image-bot.yaml"
    config.write_text(f"repositories:\n  - url: 'http://127.0.0.1:{free_port()}/deploy.git'\n")
    args = ["--once", "--config", str(config), "--cache-dir", str(tmp_path / "c"), "--no-state"]
    result = CliRunner().invoke(cli, [*before, "run", *args, *after], catch_exceptions=False)
    assert result.exit_code == 1  # the repository cannot be fetched: a warning is logged
    assert ("warning: checkout failed" in result.stderr) is shown


@pytest.fixture
def seeded(registry: RunningRegistry, repo_name: str, git_remote: MakeRemote, tmp_path: Path):  # type: ignore[no-untyped-def]
    image = f"{registry.host}/{repo_name}/app"
    old = datetime(2020, 1, 1, tzinfo=UTC)
    registry.push_image(f"{repo_name}/app", "1.0.0", created=old)
    registry.push_image(f"{repo_name}/app", "1.1.0", created=old)  # built long ago
    remote = git_remote(files={"app.yaml": f"services:\n  app:\n    image: {image}:1.0.0\n"})
    config = tmp_path / "image-bot.yaml"
    config.write_text(
        f"registries:\n  - host: '{registry.host}'\n    insecure: true\n"
        "default_policy:\n  min-age: 1h\n"
        f"repositories:\n  - url: '{remote.url}'\n"
    )
    return config, remote, tmp_path


def test_text_output_shows_the_pull_request_and_without_state_says_what_loses_precision(
    seeded,  # type: ignore[no-untyped-def]
) -> None:
    config, remote, tmp = seeded
    code, out, _ = invoke("--once", "--config", str(config), "--cache-dir", str(tmp / "c"),
                          "--no-state")  # fmt: skip
    assert code == 0, out
    assert "--- pull request ---" in out
    assert "-    image: " in out
    assert "+    image: " in out
    assert "note: min_age (default_policy)" in out  # `created` was trusted, and it says so
    assert len(remote.branches("image-bot/")) == 1


def test_with_state_min_age_counts_from_first_seen_not_from_created(
    seeded,  # type: ignore[no-untyped-def]
) -> None:
    config, remote, tmp = seeded
    args = ["--once", "--config", str(config), "--cache-dir", str(tmp / "c"), "--json",
            "--state-dir", str(tmp / "state")]  # fmt: skip
    code, out, _ = invoke(*args)
    assert code == 0, out
    assert remote.branches("image-bot/") == []  # 1.1.0 was only just seen: too young
    assert json.loads(out)["caveats"] == []

    db = sqlite3.connect(tmp / "state" / "state.sqlite3")
    earlier = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
    with db:
        assert db.execute("UPDATE first_seen SET seen_at = ?", (earlier,)).rowcount >= 1
    db.close()
    code, out, _ = invoke(*args)
    assert code == 0, out
    assert len(remote.branches("image-bot/")) == 1


def test_markdown_report_is_the_ci_job_summary(seeded) -> None:  # type: ignore[no-untyped-def]
    config, remote, tmp = seeded
    code, out, _ = invoke("--once", "--config", str(config), "--cache-dir", str(tmp / "c"),
                          "--no-state", "--report", "markdown")  # fmt: skip
    assert code == 0, out
    (branch,) = remote.branches("image-bot/")
    assert out.startswith("## image-bot: ✅ ok\n")
    assert f"| create | `{branch}` |" in out
    assert "`1.0.0` → `1.1.0` (`app.yaml:3`)" in out
    assert "```diff\n" in out
    code, _, err = invoke("--once", "--config", str(config), "--json", "--report", "markdown")
    assert code == 2
    assert "two reports" in err


def first_seen(state_home: Path) -> dict[tuple[str, str], str]:
    db = sqlite3.connect(state_home / "image-bot" / "state.sqlite3")
    try:
        rows = db.execute("SELECT image, digest, seen_at FROM first_seen").fetchall()
    finally:
        db.close()
    return {(image, digest): seen for image, digest, seen in rows}


def test_state_restored_from_a_ci_cache_keeps_first_seen_times(
    seeded,  # type: ignore[no-untyped-def]
) -> None:
    """examples/github-actions.yml and gitlab-ci.yml keep XDG_STATE_HOME in the job's
    workspace and save it to the CI cache (a tar archive) after the pass, restoring it before
    the next: the next job, on another machine, must count min_age from the first job's
    first-seen times, not start the clock again."""
    config, remote, tmp = seeded
    runner = CliRunner()

    def job(workspace: Path) -> None:
        workspace.mkdir(exist_ok=True)
        env = {"XDG_STATE_HOME": str(workspace / ".image-bot-state")}
        args = ["run", "--once", "--config", str(config), "--cache-dir", str(workspace / "c")]
        result = runner.invoke(cli, args, env=env, catch_exceptions=False)
        assert result.exit_code == 0, result.stdout

    job(tmp / "job1")
    seen = first_seen(tmp / "job1" / ".image-bot-state")
    assert seen  # both tags' digests
    archive = shutil.make_archive(str(tmp / "cache"), "gztar", tmp / "job1", ".image-bot-state")
    shutil.unpack_archive(archive, tmp / "job2")  # the cache restore of the next job

    job(tmp / "job2")
    assert first_seen(tmp / "job2" / ".image-bot-state") == seen
    assert remote.branches("image-bot/") == []  # 1.1.0 is still an hour from min_age

    job(tmp / "job3")  # a job without the cache sees every digest for the first time again
    later = first_seen(tmp / "job3" / ".image-bot-state")
    assert later.keys() == seen.keys()
    assert all(later[key] > seen[key] for key in seen)


def test_a_repository_another_process_holds_is_a_reported_skip_not_an_error(
    registry: RunningRegistry, repo_name: str, git_remote: MakeRemote, tmp_path: Path
) -> None:
    """Another job (an overrunning run, a replica) holds one repository's lease: this run
    leaves that repository to it, says so, and exits 0 when nothing else failed."""
    registry.push_tags(f"{repo_name}/app", ["1.0.0", "1.1.0"], distinct=True)
    manifest = f"image: {registry.host}/{repo_name}/app:1.0.0\n"
    held, free = (git_remote(files={"app.yaml": manifest}) for _ in range(2))
    config = tmp_path / "image-bot.yaml"
    config.write_text(
        f"registries: [{{host: '{registry.host}', insecure: true}}]\n"
        f"repositories:\n  - {{url: '{held.url}', forge: local}}\n"
        f"  - {{url: '{free.url}', forge: local}}\n"
    )
    state = tmp_path / "state"
    with StateStore.in_dir(state) as store:
        spec = load_config(config).repositories[0]
        assert store.take_lease(lease_name(spec), "job-7/42", seconds=600)
    args = ["--once", "--config", str(config), "--cache-dir", str(tmp_path / "c")]
    args += ["--state-dir", str(state)]  # not a dry run: that takes no lease

    code, out, _ = invoke(*args, "--json")
    assert code == 0, out
    report = json.loads(out)
    assert (report["exit_code"], report["outcome"]) == (0, "ok")
    skipped, passed = report["repositories"]
    assert (skipped["held_by"], skipped["outcome"], skipped["errors"]) == (
        "job-7/42",
        "skipped",
        [],
    )
    assert skipped["branches"] == []
    assert (passed["held_by"], passed["outcome"]) == (None, "ok")
    assert [branch["action"] for branch in passed["branches"]] == ["create"]
    assert held.branches() == ["main"]  # nothing pushed where the other process works

    code, out, _ = invoke(*args)
    assert code == 0, out
    assert "  skipped: held by another process (job-7/42 is passing it now)" in out
    assert out.rstrip().endswith(
        "ok: 1 images, branches: 1 keep, 1 skipped (held by another process)"
    )
