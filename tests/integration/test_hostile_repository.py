"""A hostile manifests repository (issue 14, items 6, 8, 10): the real CLI, real git, a real
registry.

Symbolic links out of the repository (files and directories, one named in `paths`), alias
bombs (top level and inside `values: |`), 10,000 levels of nesting, odd directory names and
huge files. Every test asserts that the healthy files of the same pass still update, that
nothing outside the repository is read or written (a sentinel beside the repository never
shows up in a commit or an output, and its content and mtime stay as they were), and that
the process's memory stays bounded (peak RSS of the `image-bot` subprocess, from wait4).
"""

from __future__ import annotations

import json
import os
import subprocess  # noqa: TID251  (the CLI runs as its own process so its memory can be measured)
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from image_bot.model import ImageName
from image_bot.plan import Grouping, Strategy, make_plans
from tests.support.gitrepo import git_cmd
from tests.support.peak import image_bot_command, peak_mib
from tests.support.registry import RunningRegistry
from tests.unit.publish.factory import change

pytestmark = pytest.mark.integration

MAX_RSS_MB = 300  # a pass over a dozen small files needs well under 150 MB
MAX_SECONDS = 120  # the alias bomb used to never finish
SENTINEL = "SENTINEL-6b1f0c4e-outside-the-repository"


@dataclass
class Outcome:
    """One `image-bot` process: exit code, output, and its peak RSS."""

    code: int
    stdout: str
    stderr: str
    peak_rss_mb: float
    seconds: float

    def report(self) -> dict:  # type: ignore[type-arg]
        assert self.stdout.startswith("{"), self.stderr[-3000:]
        return json.loads(self.stdout)  # type: ignore[no-any-return]


def image_bot(*args: str, cwd: Path) -> Outcome:
    """Run `python -m image_bot ARGS` as a process, with its own peak RSS."""
    out, err, peak = cwd / "stdout.txt", cwd / "stderr.txt", cwd / "peak-rss.txt"
    started = time.monotonic()
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(
            image_bot_command(list(args), peak), cwd=cwd, stdout=stdout, stderr=stderr
        )
        deadline = started + MAX_SECONDS
        while True:
            pid, status, _ = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                process.kill()
                os.wait4(process.pid, 0)
                pytest.fail(f"image-bot {' '.join(args)} ran longer than {MAX_SECONDS} s")
            time.sleep(0.05)
    process.returncode = os.waitstatus_to_exitcode(status)
    return Outcome(
        process.returncode,
        out.read_text(),
        err.read_text(),
        peak_mib(peak),
        time.monotonic() - started,
    )


@dataclass
class Outside:
    """Files beside the repository that nothing may read or write: their state, to compare."""

    root: Path

    def snapshot(self) -> dict[str, tuple[bytes, int]]:
        return {
            str(path): (path.read_bytes(), path.stat().st_mtime_ns)
            for path in sorted(self.root.rglob("*"))
            if path.is_file()
        }


@dataclass
class Hostile:
    """A manifests remote with hostile content, its config, the registry image and `outside`."""

    remote: Path
    config: Path
    work: Path
    image: str
    outside: Outside

    def run(self) -> Outcome:
        return image_bot(
            "run", "--once", "--json", "--config", str(self.config), "--no-state",
            "--cache-dir", str(self.work / "cache"), cwd=self.work,
        )  # fmt: skip

    def branches(self) -> dict[str, str]:
        out = git_cmd(self.remote, "for-each-ref", "--format=%(refname:lstrip=2) %(objectname)")
        return dict(line.split(" ", 1) for line in out.splitlines())

    def show(self, rev: str, path: str) -> str:
        return git_cmd(self.remote, "show", f"{rev}:{path}")

    def mode(self, rev: str, path: str) -> str:
        return git_cmd(self.remote, "ls-tree", rev, "--", path).split(" ", 1)[0]

    def everything_committed(self) -> str:
        """Every commit's message and patch on every branch, as one text."""
        return git_cmd(self.remote, "log", "--all", "-p", "--format=%H%n%B")


def make_outside(root: Path, image: str) -> Outside:
    """A directory beside the repository with a sentinel and a manifest that names `image`:
    reading it would show (the sentinel in a commit, a reference found and updated)."""
    (root / "dir").mkdir(parents=True)
    manifest = f"# {SENTINEL}\nimage: {image}:1.0.0\n"
    (root / "secret.yaml").write_text(manifest)
    (root / "dir" / "app.yaml").write_text(manifest)
    return Outside(root)


def make_remote(
    work: Path, files: Mapping[str, str | bytes], links: Mapping[str, str] = {}
) -> Path:
    """A bare remote whose `main` holds `files` and symbolic `links` (path -> target)."""
    bare, scratch = work / "remote.git", work / "human"
    git_cmd(work, "init", "--quiet", "--bare", "--initial-branch=main", str(bare))
    git_cmd(work, "init", "--quiet", "--initial-branch=main", str(scratch))
    for name, content in files.items():
        path = scratch / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
    for name, target in links.items():
        (scratch / name).parent.mkdir(parents=True, exist_ok=True)
        (scratch / name).symlink_to(target)
    git_cmd(scratch, "add", "--all")
    git_cmd(scratch, "commit", "--quiet", "-m", "manifests")
    git_cmd(scratch, "push", "--quiet", str(bare), "HEAD:refs/heads/main")
    return bare


def hostile(
    registry: RunningRegistry,
    repo_name: str,
    tmp_path: Path,
    *,
    files: Mapping[str, str | bytes],
    links: Mapping[str, str] = {},
    extra: str = "",
) -> Hostile:
    image = f"{registry.host}/{repo_name}/app"
    registry.push_tags(f"{repo_name}/app", ["1.0.0", "1.1.0"], distinct=True)
    outside = make_outside(tmp_path / "outside", image)
    work = tmp_path / "work"
    work.mkdir()
    remote = make_remote(work, {"deploy/app.yaml": f"image: {image}:1.0.0\n", **files}, links)
    config = work / "image-bot.yaml"
    config.write_text(
        f"registries: [{{host: '{registry.host}', insecure: true}}]\n"
        "repositories:\n"
        f"  - url: '{remote}'\n"
        "    forge: local\n"
        "    grouping: {strategy: per-directory}\n"
        f"{extra}"
    )
    return Hostile(remote, config, work, image, outside)


def assert_contained(setup: Hostile, before: dict[str, tuple[bytes, int]], *texts: str) -> None:
    """Nothing outside was read (no sentinel anywhere) or written (same bytes and mtimes)."""
    assert SENTINEL not in setup.everything_committed()
    for text in texts:
        assert SENTINEL not in text
    assert setup.outside.snapshot() == before


def assert_bounded(outcome: Outcome) -> None:
    assert outcome.peak_rss_mb < MAX_RSS_MB, outcome.peak_rss_mb


def skipped(report: dict) -> dict[str, str]:  # type: ignore[type-arg]
    (repository,) = report["repositories"]
    return {s["path"]: s["reason"] for s in repository["skipped"]}


def healthy_updated(setup: Hostile) -> None:
    assert setup.show("image-bot/deploy", "deploy/app.yaml") == f"image: {setup.image}:1.1.0\n"


# --- symbolic links ----------------------------------------------------------------------------


def test_links_out_of_the_repository_are_skipped_and_links_in_it_edited_at_their_target(
    registry: RunningRegistry, repo_name: str, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    setup = hostile(
        registry,
        repo_name,
        tmp_path,
        files={"docs/README.md": "# docs\n"},
        links={
            "deploy/evil.yaml": str(outside / "secret.yaml"),  # a host file
            "deploy/outdir": str(outside / "dir"),  # a host directory
            "linked": str(outside / "dir"),  # a host directory, named in `paths`
            "deploy/git.yaml": "../.git/config",  # the clone's own git config
            "deploy/alias.yaml": "app.yaml",  # a link inside: edited once, at app.yaml
            "other/twice.yaml": "../deploy/app.yaml",
        },
        extra="    paths: [deploy, linked, other]\n",
    )
    before = setup.outside.snapshot()

    outcome = setup.run()

    report = outcome.report()
    assert outcome.code == 0, report
    reasons = skipped(report)
    for link in ("deploy/evil.yaml", "deploy/outdir", "linked", "deploy/git.yaml"):
        assert "symbolic link to outside the repository" in reasons[link], reasons
    (branch,) = report["repositories"][0]["branches"]
    assert [c["path"] for c in branch["changes"]] == ["deploy/app.yaml"]  # once, at the target
    healthy_updated(setup)
    for link in ("deploy/evil.yaml", "deploy/outdir", "linked", "deploy/alias.yaml"):
        assert setup.mode("image-bot/deploy", link) == "120000"  # still links
    assert setup.show("image-bot/deploy", "deploy/alias.yaml") == "app.yaml"
    assert_contained(setup, before, outcome.stdout, outcome.stderr)
    assert_bounded(outcome)


def test_refs_and_set_never_read_or_write_through_a_link_out(tmp_path: Path) -> None:
    outside = make_outside(tmp_path / "outside", "ghcr.io/acme/app")
    tree = tmp_path / "tree"
    (tree / "apps").mkdir(parents=True)
    (tree / "apps" / "app.yaml").write_text("image: ghcr.io/acme/app:1.0.0\n")
    (tree / "apps" / "evil.yaml").symlink_to(outside.root / "secret.yaml")
    (tree / "apps" / "outdir").symlink_to(outside.root / "dir")
    (tree / "apps" / "alias.yaml").symlink_to("app.yaml")
    (tree / "linked").symlink_to(outside.root / "dir")
    os.mkfifo(tree / "apps" / "pipe.yaml")  # a reader that opened it would wait forever
    before = outside.snapshot()

    listed = image_bot("refs", "--json", str(tree), cwd=tmp_path)
    assert listed.code == 0, listed.stderr
    inventory = json.loads(listed.stdout)
    assert [r["file"] for r in inventory["refs"]] == ["apps/app.yaml"]
    reasons = {s["file"]: s["reason"] for s in inventory["skipped"]}
    assert set(reasons) == {"apps/evil.yaml", "apps/outdir", "linked", "apps/pipe.yaml"}
    assert reasons["apps/pipe.yaml"] == "not a regular file"

    pinned = image_bot("set", "ghcr.io/acme/app=1.1.0", str(tree), cwd=tmp_path)
    assert pinned.code == 0, pinned.stderr
    assert pinned.stdout.count("+++ b/apps/app.yaml") == 1
    assert (tree / "apps" / "app.yaml").read_text() == "image: ghcr.io/acme/app:1.1.0\n"
    for link in ("evil.yaml", "outdir", "alias.yaml"):
        assert (tree / "apps" / link).is_symlink()  # never replaced by a file
    assert (tree / "apps" / "alias.yaml").readlink() == Path("app.yaml")
    named = image_bot(
        "set", "ghcr.io/acme/app=1.1.0", str(tree / "apps" / "evil.yaml"), cwd=tmp_path
    )
    assert named.code == 1
    assert (tree / "apps" / "evil.yaml").is_symlink()
    for outcome in (listed, pinned, named):
        assert SENTINEL not in outcome.stdout + outcome.stderr
        assert_bounded(outcome)
    assert outside.snapshot() == before


def test_a_commit_never_turns_a_link_in_the_base_into_a_file(
    registry: RunningRegistry, repo_name: str, tmp_path: Path
) -> None:
    """A link whose target is a manifest in the repository: the commit edits the target, and
    git itself refuses a path through a link (the last line of defence, `Git.file_modes`)."""
    from image_bot.errors import GitError
    from image_bot.publish.git import Git

    setup = hostile(registry, repo_name, tmp_path, files={}, links={"envs/prod": "../deploy"})
    clone = Git.open(str(setup.remote), tmp_path / "clones")
    try:
        base = clone.fetch("main", "image-bot/")
        for path in ("envs/prod/app.yaml", "envs/prod"):
            with pytest.raises(GitError, match="refusing to write"):
                clone.file_modes(base, [path])
        assert clone.file_modes(base, ["deploy/app.yaml", "new/dir/file.yaml"]) == {
            "deploy/app.yaml": "100644"
        }
    finally:
        clone.close()
    outcome = setup.run()
    report = outcome.report()
    assert outcome.code == 0, report
    healthy_updated(setup)
    assert setup.mode("image-bot/deploy", "envs/prod") == "120000"


# --- alias bombs, deep nesting, huge files -----------------------------------------------------


BOMB = "".join(
    [f"a0: &a0 [{', '.join(['image'] * 9)}]\n"]
    + [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 9)]
)  # 9^9 = 387 million nodes once expanded, in ten lines


def embedded(text: str) -> str:
    indented = "".join(f"    {line}\n" for line in text.splitlines())
    return "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nspec:\n  values: |\n" + (
        indented + "    image: {image}:1.0.0\n"
    )


def deep_block(levels: int) -> str:
    return "".join("  " * i + "a:\n" for i in range(levels)) + "  " * levels + "image: x\n"


HUGE = "# " + "x" * 5_000_000 + "\nimage: {image}:1.0.0\n"
HOSTILE_FILES = {
    "bombs/top.yaml": BOMB + "image: {image}:1.0.0\n",
    "bombs/values.yaml": embedded(BOMB),
    "deep/sequences.yaml": "image: {image}:1.0.0\nx: " + "[" * 10_000 + "]" * 10_000 + "\n",
    "deep/mappings.yaml": "image: {image}:1.0.0\nx: " + "{a: " * 10_000 + "1" + "}" * 10_000 + "\n",
    "deep/block.yaml": "image: {image}:1.0.0\n" + deep_block(600),
    "deep/values.yaml": embedded("x: " + "[" * 10_000 + "]" * 10_000),
    "huge/big.yaml": HUGE,
}


def test_alias_bombs_deep_nesting_and_huge_files_are_skipped_and_the_pass_goes_on(
    registry: RunningRegistry, repo_name: str, tmp_path: Path
) -> None:
    image = f"{registry.host}/{repo_name}/app"
    files = {name: text.replace("{image}", image) for name, text in HOSTILE_FILES.items()}
    setup = hostile(registry, repo_name, tmp_path, files=files)
    before = setup.outside.snapshot()

    outcome = setup.run()

    report = outcome.report()
    assert outcome.code == 0, report
    reasons = skipped(report)
    assert reasons == {
        "bombs/top.yaml": "not read: more than 1000000 YAML nodes with aliases expanded"
        " (an alias bomb?)",
        "bombs/values.yaml": "not read: more than 1000000 YAML nodes with aliases expanded"
        " (an alias bomb?)",
        "deep/sequences.yaml": "not read: nested deeper than 200 levels",
        "deep/mappings.yaml": "not read: nested deeper than 200 levels",
        "deep/block.yaml": "not read: nested deeper than 200 levels",
        "deep/values.yaml": "not read: nested deeper than 200 levels",
        "huge/big.yaml": f"larger than 1048576 bytes ({len(files['huge/big.yaml'])})",
    }
    assert list(setup.branches()) == ["image-bot/deploy", "main"]  # no hostile file edited
    healthy_updated(setup)
    assert_contained(setup, before, outcome.stdout, outcome.stderr)
    assert_bounded(outcome)


def test_set_skips_an_alias_bomb_in_a_values_block_and_sets_the_rest(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "release.yaml").write_text(embedded(BOMB).replace("{image}", "nginx"))
    (tree / "top.yaml").write_text(BOMB + "image: nginx:1.0.0\n")
    (tree / "ok.yaml").write_text("image: nginx:1.0.0\n")

    outcome = image_bot("set", "nginx=1.27", str(tree), cwd=tmp_path)

    assert outcome.code == 0, outcome.stderr
    assert (tree / "ok.yaml").read_text() == "image: nginx:1.27\n"
    assert "nginx:1.0.0" in (tree / "release.yaml").read_text()
    for name in ("release.yaml", "top.yaml"):
        assert f"skipped {name}: not read: more than 1000000 YAML nodes" in outcome.stderr
    assert_bounded(outcome)  # it grew past 1.6 GB before


# --- odd directory names -----------------------------------------------------------------------


ODD_DIRECTORIES = (
    "x.lock",
    "a..b",
    "trailing.",
    "@{at",
    "with space",
    "new\nline",
    "tab\there",
    "ctl\x01char",
    "déploiement/日本",
    "/".join(["level-with-a-rather-long-directory-name"] * 12),
)


def test_odd_directory_names_make_valid_branches_and_every_group_is_pushed(
    registry: RunningRegistry, repo_name: str, tmp_path: Path
) -> None:
    image = f"{registry.host}/{repo_name}/app"
    files = {f"{name}/app.yaml": f"image: {image}:1.0.0\n" for name in ODD_DIRECTORIES}
    setup = hostile(
        registry,
        repo_name,
        tmp_path,
        files=files,
        extra="    limits: {max_open_pull_requests: 20}\n",
    )
    before = setup.outside.snapshot()

    outcome = setup.run()

    report = outcome.report()
    assert outcome.code == 0, report
    branches = report["repositories"][0]["branches"]
    assert not [b for b in branches if b.get("error")], branches
    assert len(branches) == len(ODD_DIRECTORIES) + 1  # each directory, and deploy
    for branch in branches:
        assert branch["action"] == "create", branch
        check_ref_format(branch["branch"])
        assert len(branch["branch"]) <= len("image-bot/") + 128
        (changed,) = branch["changes"]
        assert setup.show(branch["branch"], changed["path"]) == f"image: {image}:1.1.0\n"
    assert_contained(setup, before, outcome.stdout, outcome.stderr)
    assert_bounded(outcome)


@pytest.mark.parametrize(
    "directory",
    [*ODD_DIRECTORIES, ".lock", "x.lock/y.lock", "..", "-", "a.lock.lock", "." * 300, "x" * 300],
)
def test_every_branch_name_the_bot_makes_passes_git_check_ref_format(directory: str) -> None:
    for grouping in (Grouping(Strategy.PER_DIRECTORY), Grouping(Strategy.ALL), Grouping()):
        (plan,) = make_plans(
            "repo",
            "main",
            [change("ghcr.io/acme/app:1.0", "1.1", f"{directory}/a.yaml", 1)],
            grouping=grouping,
            branch_prefix="image-bot/",
            file_hashes={},
        )
        check_ref_format(plan.branch)
        assert len(plan.branch) <= len("image-bot/") + 128


def test_long_directory_names_that_share_a_prefix_get_branches_of_their_own() -> None:
    long = "x" * 200
    plans = make_plans(
        "repo",
        "main",
        [change("ghcr.io/acme/app:1.0", "1.1", f"{long}{i}/a.yaml", 1) for i in range(3)],
        grouping=Grouping(Strategy.PER_DIRECTORY),
        branch_prefix="image-bot/",
        file_hashes={},
    )
    assert len({plan.branch for plan in plans}) == 3
    assert {plan.changes[0].occurrence.ref.name for plan in plans} == {
        ImageName("ghcr.io", "acme/app")
    }


def check_ref_format(branch: str) -> None:
    done = subprocess.run(
        ["git", "check-ref-format", f"refs/heads/{branch}"], capture_output=True, check=False
    )
    assert done.returncode == 0, f"git check-ref-format refuses {branch!r}"
