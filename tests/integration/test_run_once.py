"""`image-bot run --once` end to end: a real docker-registry, real git remotes, the real CLI."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from image_bot.cli import cli
from tests.support.gitrepo import GitRemote, MakeRemote, git_cmd
from tests.support.registry import RunningRegistry, free_port

pytestmark = pytest.mark.integration

BOT = "image-bot@example.com"


@dataclass
class Setup:
    """A seeded registry, a manifests remote, a config file and the bot's directories."""

    registry: RunningRegistry
    remote: GitRemote
    config: Path
    work: Path
    web: str  # image names as written in the manifests
    api: str

    def run(self, *extra: str) -> tuple[int, dict[str, object]]:
        """Run the CLI once with --json; (exit code, report)."""
        args = [
            "run", "--once", "--json", "--config", str(self.config),
            "--cache-dir", str(self.work / "cache"), "--state-dir", str(self.work / "state"),
            *extra,
        ]  # fmt: skip
        result = CliRunner().invoke(cli, args, catch_exceptions=False)
        assert result.stdout.startswith("{"), result.output
        return result.exit_code, json.loads(result.stdout)


def repo_report(report: dict[str, object]) -> dict:  # type: ignore[type-arg]
    (repo,) = report["repositories"]  # type: ignore[misc]
    return repo  # type: ignore[no-any-return]


def branches(report: dict[str, object]) -> dict[str, dict]:  # type: ignore[type-arg]
    return {b["branch"]: b for b in repo_report(report)["branches"]}


DEPLOY = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
        - name: web
          image: {web}:1.0.0   # keep this comment
"""
COMPOSE = """\
services:
  api:
    image: "{api}:2.0.0"
"""


def write_config(path: Path, remote: str, hosts: list[str], extra: str = "") -> None:
    registries = "".join(f"  - host: '{host}'\n    insecure: true\n" for host in hosts)
    path.write_text(
        f"registries:\n{registries}"
        "repositories:\n"
        f"  - url: '{remote}'\n"
        "    forge: local\n"
        "    commit:\n"
        f"      author_email: {BOT}\n"
        f"{extra}"
    )


@pytest.fixture
def setup(
    registry: RunningRegistry, repo_name: str, git_remote: MakeRemote, tmp_path: Path
) -> Setup:
    web, api = f"{registry.host}/{repo_name}/web", f"{registry.host}/{repo_name}/api"
    registry.push_tags(f"{repo_name}/web", ["1.0.0", "1.1.0", "1.2.0", "2.0.0-rc.1"], distinct=True)
    registry.push_tags(f"{repo_name}/api", ["2.0.0", "2.1.0"], distinct=True)
    remote = git_remote(
        files={
            "apps/web/deploy.yaml": DEPLOY.format(web=web),
            "infra/compose.yaml": COMPOSE.format(api=api),
            "infra/broken.yaml": "image: [unclosed\n  containers: {\n",
        }
    )
    config = tmp_path / "image-bot.yaml"
    write_config(config, remote.url, [registry.host])
    return Setup(registry, remote, config, tmp_path / "bot", web, api)


def slug(name: str) -> str:
    return "image-bot/" + name.replace(":", "-").replace("/", "-").replace(".", ".")


def test_changes_land_on_bot_branches_exactly_as_planned(setup: Setup) -> None:
    main = setup.remote.refs()["refs/heads/main"]
    code, report = setup.run()
    assert code == 0, report
    found = branches(report)
    web_branch, api_branch = slug(setup.web), slug(setup.api)
    assert sorted(found) == sorted([web_branch, api_branch])
    assert {b["action"] for b in found.values()} == {"create"}

    web_file = setup.remote.show(web_branch, "apps/web/deploy.yaml")
    assert web_file == DEPLOY.format(web=setup.web).replace(":1.0.0 ", ":1.2.0 ")
    assert setup.remote.show(web_branch, "infra/compose.yaml") == COMPOSE.format(api=setup.api)
    api_file = setup.remote.show(api_branch, "infra/compose.yaml")
    assert api_file == COMPOSE.format(api=setup.api).replace(":2.0.0", ":2.1.0")

    for branch in (web_branch, api_branch):
        assert setup.remote.count(f"main..{branch}") == 1
        assert git_cmd(setup.remote.path, "rev-parse", f"{branch}^").strip() == main
        assert setup.remote.author(branch) == f"image-bot <{BOT}>"
        assert found[branch]["head_sha"] == setup.remote.refs()[f"refs/heads/{branch}"]
    (change,) = found[web_branch]["changes"]
    assert (change["old"], change["new"]) == (f"{setup.web}:1.0.0", f"{setup.web}:1.2.0")
    assert (change["path"], change["line"]) == ("apps/web/deploy.yaml", 10)
    assert "apps/web/deploy.yaml:10" in setup.remote.message(web_branch)
    assert found[web_branch]["title"] == f"Update {setup.web} to 1.2.0"
    assert "+          image: " in found[web_branch]["diff"]
    assert setup.remote.refs()["refs/heads/main"] == main  # the base is never pushed to


def test_a_malformed_manifest_is_reported_and_left_untouched(setup: Setup) -> None:
    code, report = setup.run()
    assert code == 0
    skipped = repo_report(report)["skipped"]
    assert [s["path"] for s in skipped] == ["infra/broken.yaml"]
    broken = setup.remote.show("main", "infra/broken.yaml")
    for branch in branches(report):
        assert setup.remote.show(branch, "infra/broken.yaml") == broken


def test_a_second_run_with_nothing_new_writes_nothing(setup: Setup) -> None:
    setup.run()
    refs, reflog = setup.remote.refs(), setup.remote.reflog()
    code, report = setup.run()
    assert code == 0
    repo = repo_report(report)
    assert {b["action"] for b in repo["branches"]} == {"keep"}
    assert repo["git_writes"] == 0  # no commit built, no push made
    reads = {"remote", "fetch", "rev-parse", "checkout", "clean", "for-each-ref"}
    assert set(repo["git_calls"]) <= reads  # no fast-import, no push, no update-ref
    assert repo["git_commands"] == sum(repo["git_calls"].values())
    assert setup.remote.refs() == refs
    assert setup.remote.reflog() == reflog


def test_dry_run_prints_the_plan_and_diff_and_writes_nothing(setup: Setup) -> None:
    refs, reflog = setup.remote.refs(), setup.remote.reflog()
    code, report = setup.run("--dry-run")
    assert code == 0
    assert report["dry_run"] is True
    found = branches(report)
    assert {b["action"] for b in found.values()} == {"create"}
    assert all(b["head_sha"] is None for b in found.values())
    assert f"+          image: {setup.web}:1.2.0" in found[slug(setup.web)]["diff"]
    assert setup.remote.refs() == refs
    assert setup.remote.reflog() == reflog
    assert not (setup.work / "state").exists()  # no state written either


def test_with_one_registry_down_the_others_are_updated_and_the_exit_code_is_1(
    setup: Setup, tmp_path: Path
) -> None:
    down = f"127.0.0.1:{free_port()}"
    setup.remote.commit("main", {"apps/db.yaml": f"image: {down}/db/postgres:15.0\n"}, "db")
    write_config(setup.config, setup.remote.url, [setup.registry.host, down])
    code, report = setup.run()
    assert code == 1
    assert [f["image"] for f in report["scan_failures"]] == [f"{down}/db/postgres"]  # type: ignore[index]
    # the repository says which of its references could not be checked; the pass is partial
    ((failure,), outcome) = repo_report(report)["image_failures"], report["outcome"]
    assert (failure["reference"], failure["current"]) == (f"{down}/db/postgres:15.0", "15.0")
    assert outcome == repo_report(report)["outcome"] == "partial"
    assert report["kind"] == "run-report"
    assert report["schema_version"] == 1
    assert sorted(branches(report)) == sorted([slug(setup.web), slug(setup.api)])
    assert setup.remote.branches("image-bot/") == sorted([slug(setup.web), slug(setup.api)])


def test_a_moved_base_rebuilds_the_branch_from_the_new_base(setup: Setup) -> None:
    setup.run()
    web_branch = slug(setup.web)
    moved_text = "# owned by team web\n" + DEPLOY.format(web=setup.web)
    moved = setup.remote.commit("main", {"apps/web/deploy.yaml": moved_text}, "a comment")
    code, report = setup.run()
    assert code == 0
    assert branches(report)[web_branch]["action"] == "update"
    assert branches(report)[slug(setup.api)]["action"] == "keep"  # its file did not move
    assert git_cmd(setup.remote.path, "rev-parse", f"{web_branch}^").strip() == moved
    expected = moved_text.replace(":1.0.0 ", ":1.2.0 ")
    assert setup.remote.show(web_branch, "apps/web/deploy.yaml") == expected


def test_a_human_commit_on_the_bot_branch_is_never_overwritten(setup: Setup) -> None:
    setup.run()
    web_branch = slug(setup.web)
    human = setup.remote.commit(web_branch, {"NOTES.md": "testing this\n"}, "human note")
    setup.registry.push_tags(setup.web.split("/", 1)[1], ["1.3.0"], distinct=True)  # a newer plan
    code, report = setup.run()
    assert code == 0
    assert branches(report)[web_branch]["action"] == "hold"
    assert setup.remote.refs()[f"refs/heads/{web_branch}"] == human


HookScript = Callable[..., None]


@pytest.fixture
def once_hook(setup: Setup) -> HookScript:
    """Install a pre-receive hook on the remote that runs `script` once (as another pusher)."""

    def install(script: str, *, reject: bool, ref: str = "") -> None:
        hook = setup.remote.path / "hooks" / "pre-receive"
        flag = setup.remote.path / "race-once"
        flag.write_text("armed")
        hook.write_text(
            "#!/bin/sh\n"
            f"grep -q ' {ref}' || exit 0\n"  # stdin: '<old> <new> <ref>' per updated ref
            f"[ -f '{flag}' ] || exit 0\n"
            f"rm '{flag}'\n"
            # a hook may not move refs while the push is quarantined; a racing pusher could
            f"env -u GIT_QUARANTINE_PATH {script}\n"
            f"exit {1 if reject else 0}\n"
        )
        hook.chmod(0o755)

    return install


def test_a_base_that_moves_during_the_push_is_retried_from_fresh_state(
    setup: Setup, once_hook: HookScript
) -> None:
    moved_text = "# moved while the bot worked\n" + DEPLOY.format(web=setup.web)
    moved = setup.remote.commit("side", {"apps/web/deploy.yaml": moved_text}, "race", on="main")
    once_hook(f"git update-ref refs/heads/main {moved}", reject=True)
    code, report = setup.run()
    assert code == 0, report
    assert repo_report(report)["attempts"] == 2
    web_branch = slug(setup.web)
    assert git_cmd(setup.remote.path, "rev-parse", f"{web_branch}^").strip() == moved
    expected = moved_text.replace(":1.0.0 ", ":1.2.0 ")
    assert setup.remote.show(web_branch, "apps/web/deploy.yaml") == expected


def test_a_lost_push_race_never_clobbers_the_winner(setup: Setup, once_hook: HookScript) -> None:
    setup.run()
    web_branch = slug(setup.web)
    winner = setup.remote.commit("side", {"NOTES.md": "mine\n"}, "a human won the race", on="main")
    # the winner lands between the bot's fetch and its push: the lease must fail
    once_hook(f"git update-ref refs/heads/{web_branch} {winner}", reject=False)
    setup.registry.push_tags(setup.web.split("/", 1)[1], ["1.3.0"], distinct=True)
    code, report = setup.run()
    assert code == 0, report
    assert repo_report(report)["attempts"] == 2
    assert branches(report)[web_branch]["action"] == "hold"
    assert setup.remote.refs()[f"refs/heads/{web_branch}"] == winner


def test_a_branch_whose_change_landed_on_the_base_is_closed(setup: Setup) -> None:
    setup.run()
    web_branch = slug(setup.web)
    merged = DEPLOY.format(web=setup.web).replace(":1.0.0 ", ":1.2.0 ")
    setup.remote.commit("main", {"apps/web/deploy.yaml": merged}, "merge the bot's change")
    code, report = setup.run()
    assert code == 0, report
    assert branches(report)[web_branch]["action"] == "close"
    assert setup.remote.branches("image-bot/") == [slug(setup.api)]


def test_direct_commits_fast_forward_the_base_and_then_rest(setup: Setup) -> None:
    write_config(setup.config, setup.remote.url, [setup.registry.host], "    direct_commit: true\n")
    main = setup.remote.refs()["refs/heads/main"]
    code, report = setup.run()
    assert code == 0, report
    assert [b["action"] for b in repo_report(report)["branches"]] == ["direct"]
    assert setup.remote.branches("image-bot/") == []
    assert setup.remote.count(f"{main}..main") == 1
    assert setup.remote.author("main") == f"image-bot <{BOT}>"
    assert f"{setup.web}:1.2.0" in setup.remote.show("main", "apps/web/deploy.yaml")
    assert f"{setup.api}:2.1.0" in setup.remote.show("main", "infra/compose.yaml")
    refs = setup.remote.refs()
    code, report = setup.run()
    assert (code, repo_report(report)["branches"], repo_report(report)["git_writes"]) == (0, [], 0)
    assert setup.remote.refs() == refs


def test_new_branches_beyond_the_open_limit_wait_for_a_later_pass(setup: Setup) -> None:
    limits = "    limits:\n      max_open_pull_requests: 1\n"
    write_config(setup.config, setup.remote.url, [setup.registry.host], limits)
    code, report = setup.run()
    assert code == 0, report
    actions = sorted(b["action"] for b in repo_report(report)["branches"])
    assert actions == ["create", "defer"]
    assert len(setup.remote.branches("image-bot/")) == 1


def test_only_branches_that_are_written_or_shown_carry_a_diff(setup: Setup) -> None:
    """Deferred and kept branches are not rewritten: their report entries hold no diff."""
    limits = "    limits:\n      max_open_pull_requests: 1\n"
    write_config(setup.config, setup.remote.url, [setup.registry.host], limits)
    for extra in (("--dry-run",), ()):
        code, report = setup.run(*extra)
        assert code == 0, report
        diffs = {b["action"]: b["diff"] for b in repo_report(report)["branches"]}
        assert sorted(diffs) == ["create", "defer"]
        assert diffs["create"].startswith("--- a/")
        assert diffs["defer"] == ""
    code, report = setup.run()  # the created branch is up to date; the other still waits
    diffs = {b["action"]: b["diff"] for b in repo_report(report)["branches"]}
    assert diffs == {"keep": "", "defer": ""}


def test_without_a_branch_prefix_nothing_is_force_pushed(setup: Setup) -> None:
    write_config(setup.config, setup.remote.url, [setup.registry.host], "    branch_prefix: ''\n")
    refs = setup.remote.refs()
    code, report = setup.run()
    assert code == 1
    outcomes = {
        b["branch"]: (b["action"], b["error"] or "") for b in repo_report(report)["branches"]
    }
    assert outcomes.pop("main")[0] == "hold"  # every branch looks like a bot branch now
    assert len(outcomes) == 2
    assert all(action == "create" and "refusing" in error for action, error in outcomes.values())
    assert setup.remote.refs() == refs


def test_a_restart_after_a_lost_race_still_reports_what_it_had_pushed(
    setup: Setup, once_hook: HookScript
) -> None:
    web_branch, api_branch = slug(setup.web), slug(setup.api)
    moved = setup.remote.commit("side", {"NOTES.md": "x\n"}, "unrelated", on="main")
    # the api branch goes first and lands; the web push then finds the base moved
    once_hook(
        f"git update-ref refs/heads/main {moved}", reject=True, ref=f"refs/heads/{web_branch}"
    )
    code, report = setup.run()
    assert code == 0, report
    assert repo_report(report)["attempts"] == 2
    assert {b["branch"]: b["action"] for b in repo_report(report)["branches"]} == {
        api_branch: "create",  # pushed by the first attempt, kept by the second
        web_branch: "create",
    }
    assert git_cmd(setup.remote.path, "rev-parse", f"{web_branch}^").strip() == moved


def test_a_kustomize_placeholder_is_left_to_its_overlay_entry(
    registry: RunningRegistry, repo_name: str, git_remote: MakeRemote, tmp_path: Path
) -> None:
    api = f"{registry.host}/{repo_name}/api"
    registry.push_tags(f"{repo_name}/api", ["2.0.0", "2.1.0"], distinct=True)
    base = DEPLOY.replace("{web}:1.0.0", "api")  # `image: api`: a name kustomize replaces
    overlay = (
        f"resources: [../../base]\nimages:\n  - name: api\n    newName: {api}\n    newTag: 2.0.0\n"
    )
    remote = git_remote(
        files={"base/deploy.yaml": base, "base/kustomization.yaml": "resources: [deploy.yaml]\n",
               "overlays/prod/kustomization.yaml": overlay}
    )  # fmt: skip
    config = tmp_path / "image-bot.yaml"
    write_config(config, remote.url, [registry.host])
    setup = Setup(registry, remote, config, tmp_path / "bot", web="", api=api)

    code, report = setup.run()

    # Docker Hub's `library/api` is never asked for (it would fail the pass): the overlay's
    # entry is the reference, and it is what moves.
    assert code == 0, report
    assert repo_report(report)["managed"] == 1
    (branch,) = branches(report)
    assert remote.show(branch, "overlays/prod/kustomization.yaml") == overlay.replace(
        "newTag: 2.0.0", "newTag: 2.1.0"
    )
    assert remote.show(branch, "base/deploy.yaml") == base
